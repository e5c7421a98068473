"""The region pack loader (issue #8): it updates the grounds and answers the pack changed, keeps a
pack hash per entry, never overwrites an administrator's own edit (the pack's text waits as a
conflict to resolve), and `hotline init` run twice changes nothing the second time."""
import copy
import json
import tempfile

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from hotline import create_app
from hotline.cli import init_database
from hotline.extensions import db
from hotline.reference import operations
from hotline.reference.models import Answer, StatutoryGround

REFERENCE = (StatutoryGround, Answer)
COLUMNS = {StatutoryGround: ("version", "code", "purpose", "text", "legal_basis", "local_rule", "active", "pack_hash",
                             "pack_pending", "edited_locally"),
           Answer: ("code", "title", "keywords", "body", "legal_basis", "basis_verified", "active", "pack_hash",
                    "pack_pending", "edited_locally", "updated_at")}


def snapshot() -> dict:
    db.session.expire_all()
    return {model.__tablename__: sorted((tuple(json.dumps(getattr(row, c), default=str, ensure_ascii=False)
                                               for c in COLUMNS[model]))
                                        for row in db.session.scalars(select(model))) for model in REFERENCE}


@pytest.fixture
def changed_pack(monkeypatch):
    """The pack as a later release might ship it: edit the dict this returns, then load."""
    pack = copy.deepcopy(operations.read_pack("anshan"))
    monkeypatch.setattr(operations, "read_pack", lambda region: pack)
    yield pack
    # Put the session's reference rows back to the real pack for the other tests.
    monkeypatch.undo()
    db.session.rollback()
    for model in REFERENCE:
        db.session.execute(model.__table__.update().values(edited_locally=False, pack_hash=None, pack_pending=None))
    db.session.execute(Answer.__table__.update().values(updated_by_id=None))
    operations.load_region_pack("anshan")
    db.session.commit()


def entry(pack: dict, name: str, code: str, version: str | None = None) -> dict:
    return next(e for e in pack[name] if e["code"] == code and e.get("version", version) == version)


def test_loading_twice_changes_nothing():
    operations.load_region_pack("anshan")
    db.session.commit()
    before = snapshot()
    operations.load_region_pack("anshan")
    assert not db.session.dirty and not db.session.new
    db.session.commit()
    assert snapshot() == before


def test_every_entry_keeps_the_hash_of_the_pack_entry_applied():
    assert all(row.pack_hash for model in REFERENCE for row in db.session.scalars(select(model)))


def test_the_loader_updates_what_the_pack_changed(changed_pack):
    entry(changed_pack, "answers", "A004")["body"] = "新的退货运费答复。"
    entry(changed_pack, "grounds", "T05", "order-121")["text"] = "自投诉受理之日起六十日内未能达成调解协议（修订）"
    operations.load_region_pack("anshan")
    db.session.commit()
    assert db.session.scalar(select(Answer.body).where(Answer.code == "A004")) == "新的退货运费答复。"
    t05 = db.session.scalar(select(StatutoryGround.text).filter_by(version="order-121", code="T05"))
    assert t05.endswith("（修订）")
    # the other version's T05 is another entry, untouched
    assert "四十五个工作日" in db.session.scalar(select(StatutoryGround.text).filter_by(version="order-20", code="T05"))


def test_an_administrators_edit_is_kept_and_the_pack_waits(client, make_user, login, changed_pack):
    admin = make_user("admin")
    csrf = login(client, admin)
    a = db.session.scalar(select(Answer).where(Answer.code == "A013"))
    form = {"title": a.title, "body": "本局自己的短斤少两答复。", "legal_basis": a.legal_basis,
            "keywords": " ".join(a.keywords), "active": "on", "csrf_token": csrf}
    assert client.post("/answers/A013/edit", data=form).status_code == 302
    assert db.session.scalar(select(Answer.edited_locally).where(Answer.code == "A013"))

    entry(changed_pack, "answers", "A013")["body"] = "规则包的新答复。"
    operations.load_region_pack("anshan")
    db.session.commit()
    a = db.session.scalar(select(Answer).where(Answer.code == "A013"))
    assert a.body == "本局自己的短斤少两答复。" and a.pack_pending["body"] == "规则包的新答复。"

    page = client.get("/answers").get_data(as_text=True)
    assert "规则包的新答复。" in page and "采用规则包版本" in page and "保留本地版本" in page
    assert client.post("/answers/A013/pack", data={"use": "keep"}).status_code == 400  # no CSRF token
    assert client.post("/answers/A013/pack", data={"use": "keep", "csrf_token": csrf}).status_code == 302
    db.session.expire_all()
    a = db.session.scalar(select(Answer).where(Answer.code == "A013"))
    assert a.body == "本局自己的短斤少两答复。" and not a.pack_pending
    operations.load_region_pack("anshan")  # the same pack again: no new conflict
    assert not a.pack_pending

    entry(changed_pack, "answers", "A013")["body"] = "规则包又一版答复。"
    operations.load_region_pack("anshan")
    db.session.commit()
    assert client.post("/answers/A013/pack", data={"use": "pack", "csrf_token": csrf}).status_code == 302
    db.session.expire_all()
    a = db.session.scalar(select(Answer).where(Answer.code == "A013"))
    assert a.body == "规则包又一版答复。" and not a.edited_locally and not a.pack_pending


@pytest.mark.parametrize("role", ["operator", "bureau"])
def test_only_the_centre_resolves_conflicts(client, make_user, login, role):
    csrf = login(client, make_user(role, bureau="tiexi" if role == "bureau" else None))
    assert client.post("/answers/A013/pack", data={"use": "pack", "csrf_token": csrf}).status_code == 403


def test_a_ground_edited_here_shows_its_conflict(client, make_user, login, changed_pack):
    ground = db.session.scalar(select(StatutoryGround).filter_by(version="order-121", code="D07"))
    ground.text, ground.edited_locally = "本地措辞", True
    db.session.commit()
    entry(changed_pack, "grounds", "D07", "order-121")["text"] = "规则包新措辞"
    operations.load_region_pack("anshan")
    db.session.commit()
    csrf = login(client, make_user("supervisor"))
    assert "规则包新措辞" in client.get("/answers").get_data(as_text=True)
    assert client.post("/grounds/order-121/D07/pack", data={"use": "pack", "csrf_token": csrf}).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(StatutoryGround.text).filter_by(version="order-121", code="D07")) == "规则包新措辞"


O20 = "《市场监督管理投诉举报处理暂行办法》(国家市场监督管理总局令第20号)"
OLD_GROUNDS = [  # as the pack loaded them before grounds had versions
    ("D01", "decline", "投诉事项不属于市场监督管理部门职责，或者本行政机关不具有处理权限", O20 + "第15条"),
    ("T01", "terminate", "投诉人撤回投诉或者双方自行和解", O20 + "第26条"),
    ("T07", "terminate", "被投诉人已歇业、注销或者经多次联系无法取得联系，调解无法进行", O20 + "第26条"),
]


def test_hotline_init_on_an_old_database(app):
    """A database from before issue #8: its grounds become Order 20's with the right articles, Order
    121's are added, an answer a supervisor edited keeps the edit, and a second init changes nothing."""
    old = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tempfile.mkdtemp(prefix='hotline-old-')}/old.db",
                      "TESTING": True, "SECRET_KEY": "test-secret", "BROKER_URL": None})
    with old.app_context():
        upgrade(directory=old.extensions["migrate"].directory, revision="0004")
        # Raw SQL: the ORM's User has columns later migrations add.
        db.session.execute(text("INSERT INTO \"user\" (username, display_name, password_hash, role, active, "
                                "created_at) VALUES ('keeper', 'keeper', 'x', 'supervisor', 1, CURRENT_TIMESTAMP)"))
        editor_id = db.session.execute(text("SELECT id FROM \"user\" WHERE username = 'keeper'")).scalar_one()
        db.session.commit()
        for code, purpose, ground_text, basis in OLD_GROUNDS:
            db.session.execute(text("INSERT INTO statutory_ground (code, purpose, text, legal_basis, active) "
                                    "VALUES (:c, :p, :t, :b, 1)"),
                               {"c": code, "p": purpose, "t": ground_text, "b": basis})
        for code, body, by in (("A008", "调解期限一般为自受理之日起四十五个工作日。", None),
                               ("A011", "本局修改过的快递答复。", editor_id)):
            db.session.execute(text("INSERT INTO answer (code, title, keywords, body, legal_basis, active, updated_at, "
                                    "updated_by_id) VALUES (:c, '旧', '[]', :body, NULL, 1, CURRENT_TIMESTAMP, :by)"),
                               {"c": code, "body": body, "by": by})
        db.session.commit()

        init_database()
        t01 = db.session.scalar(select(StatutoryGround).filter_by(version="order-20", code="T01"))
        assert "第21条第（一）项" in t01.legal_basis
        assert db.session.scalar(select(StatutoryGround).filter_by(version="order-121", code="D08")) is not None
        # a case terminated with T07 keeps its meaning in either version
        for version in ("order-20", "order-121"):
            t07 = db.session.scalar(select(StatutoryGround).filter_by(version=version, code="T07"))
            assert "歇业" in t07.text and t07.local_rule
        answers = {a.code: a for a in db.session.scalars(select(Answer))}
        assert "六十日" in answers["A008"].body  # never edited here: the pack's correction applies
        assert answers["A011"].body == "本局修改过的快递答复。"  # a supervisor's edit from before pack hashes
        assert "依照民事法律" in answers["A011"].pack_pending["body"]
        assert "A021" in answers

        before = snapshot()
        init_database()
        assert snapshot() == before
        db.session.remove()
