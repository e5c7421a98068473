"""Personal-data keys (issue #12, item 4): ID numbers under HOTLINE_DATA_KEYS and query codes under
HOTLINE_QUERY_CODE_KEY survive a change of the secret key; `hotline keys rotate` moves every ID number
under the newest key in resumable batches, after which an old key can go; values made with the secret
key before stay readable until moved; an ID number no key opens is a clear message, never a 500."""
import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select

from hotline import create_app
from hotline.cases import numbers, personal_data
from hotline.cases.models import Case, CaseComplainant
from hotline.extensions import db
from hotline.outbox.relay import run_pending

ID, SECOND_ID = "11010519491231002X", "110102198001010025"
K1, K2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()


@pytest.fixture
def rekey(app):
    """Restart the keys with other settings (as a restart with other environment variables would)."""
    names = ("DATA_KEYS", "QUERY_CODE_KEY", "LEGACY_SECRET_KEY", "SECRET_KEY")
    saved, saved_keys = {n: app.config.get(n) for n in names}, app.extensions[personal_data.EXTENSION]

    def configure(**values):
        app.config.update(values)
        personal_data.init_app(app)
    yield configure
    app.config.update(saved)
    app.extensions[personal_data.EXTENSION] = saved_keys


def _file(make_case, **over):
    registered = make_case(consumer={"name": "张三", "phone": "13900001111", "id_number": ID}, **over)
    return registered.case.id, registered.case.number, registered.query_code


def _case(case_id) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def _lookup(client, number, code):
    return client.post("/api/v1/public/lookup", json={"number": number, "code": code})


def _rotate(app, *args):
    return app.test_cli_runner().invoke(args=["keys", "rotate", *args])


def test_a_new_secret_key_keeps_id_numbers_and_query_codes(client, make_case, rekey):
    case_id, number, code = _file(make_case)
    rekey(SECRET_KEY="a-brand-new-secret-key")  # sessions end; nothing else changes
    assert personal_data.decrypt(_case(case_id).consumer_id_number_enc) == ID
    assert _lookup(client, number, code).status_code == 200


def test_values_made_with_the_secret_key_stay_valid_and_move_to_the_new_keys(app, client, make_case, rekey):
    case_id, number, code = _file(make_case)
    case = _case(case_id)  # as a release before the data keys stored them
    case.consumer_id_number_enc = personal_data.legacy_fernet("test-secret").encrypt(ID.encode()).decode()
    case.query_code_hash = numbers.hash_query_code("test-secret", number, code)
    db.session.commit()
    assert personal_data.decrypt(_case(case_id).consumer_id_number_enc) == ID

    assert _lookup(client, number, code).status_code == 200
    assert _case(case_id).query_code_hash == personal_data.hash_query_code(number, code)  # re-hashed on use
    assert _lookup(client, number, "WRONG2").status_code == 404

    result = _rotate(app)
    assert result.exit_code == 0, result.output
    assert "done: 1 ID numbers checked, 1 re-encrypted, 0 unreadable" in result.output
    rekey(SECRET_KEY="a-brand-new-secret-key")
    assert personal_data.decrypt(_case(case_id).consumer_id_number_enc) == ID
    assert _lookup(client, number, code).status_code == 200


def test_the_old_secret_key_as_legacy_secret_keeps_unmoved_values(client, make_case, rekey):
    case_id, number, code = _file(make_case)
    case = _case(case_id)
    case.consumer_id_number_enc = personal_data.legacy_fernet("test-secret").encrypt(ID.encode()).decode()
    case.query_code_hash = numbers.hash_query_code("test-secret", number, code)
    db.session.commit()
    rekey(SECRET_KEY="a-brand-new-secret-key", LEGACY_SECRET_KEY="test-secret")
    assert personal_data.decrypt(_case(case_id).consumer_id_number_enc) == ID
    assert _lookup(client, number, code).status_code == 200


def test_a_new_data_key_then_rotate_then_the_old_key_can_go(app, make_case, rekey):
    rekey(DATA_KEYS=K1)
    case_id, _number, _code = _file(make_case, complainants=[{"name": "李四", "id_number": SECOND_ID}])
    rekey(DATA_KEYS=f"{K2},{K1}")  # the new key first: it encrypts from now on
    result = _rotate(app)
    assert result.exit_code == 0, result.output
    assert "case.consumer_id_number_enc: 1 checked, 1 re-encrypted" in result.output
    assert "case_complainant.id_number_enc: 1 checked, 1 re-encrypted" in result.output

    rekey(DATA_KEYS=K2, SECRET_KEY="another-secret")  # K1 removed; the legacy derivation no help either
    complainant = db.session.scalar(select(CaseComplainant).where(CaseComplainant.case_id == case_id))
    assert personal_data.decrypt(_case(case_id).consumer_id_number_enc) == ID
    assert personal_data.decrypt(complainant.id_number_enc) == SECOND_ID
    rekey(DATA_KEYS=K1, SECRET_KEY="another-secret")
    with pytest.raises(personal_data.UnreadableData):
        personal_data.decrypt(_case(case_id).consumer_id_number_enc)


def test_rotation_stopped_half_way_resumes(app, make_case, rekey):
    rekey(DATA_KEYS=K1)
    ids = [_file(make_case)[0] for _ in range(5)]
    rekey(DATA_KEYS=f"{K2},{K1}")

    def stop(_progress):
        raise KeyboardInterrupt  # Ctrl-C after the first batch committed
    with pytest.raises(KeyboardInterrupt):
        personal_data.rotate_data_keys(batch=2, report=stop)
    under_k2 = 0
    for case_id in ids:
        try:
            Fernet(K2).decrypt(_case(case_id).consumer_id_number_enc.encode())
            under_k2 += 1
        except Exception:
            pass
    assert under_k2 == 2

    result = _rotate(app, "--batch", "2")
    assert result.exit_code == 0, result.output
    assert "case.consumer_id_number_enc: 2 checked" in result.output  # progress after each batch
    assert "done: 5 ID numbers checked, 3 re-encrypted, 0 unreadable" in result.output
    assert "done: 5 ID numbers checked, 0 re-encrypted" in _rotate(app).output  # nothing left to do
    rekey(DATA_KEYS=K2, SECRET_KEY="another-secret")
    assert [personal_data.decrypt(_case(i).consumer_id_number_enc) for i in ids] == [ID] * 5


def test_an_id_number_no_key_opens_is_a_message_not_a_500(app, client, make_case, make_user, login):
    case_id, number, _code = _file(make_case)
    run_pending()  # routed to its bureau
    case = _case(case_id)
    case.consumer_id_number_enc = Fernet(Fernet.generate_key()).encrypt(ID.encode()).decode()  # a lost key
    db.session.commit()
    csrf = login(client, make_user("bureau", bureau="tiexi"))
    response = client.post(f"/cases/{number}/reveal", data={"csrf_token": csrf})
    assert response.status_code == 200
    assert "无法解密" in response.get_data(as_text=True) and "13900001111" in response.get_data(as_text=True)

    stored = _case(case_id).consumer_id_number_enc
    result = _rotate(app)
    assert result.exit_code != 0 and "1 unreadable" in result.output
    assert _case(case_id).consumer_id_number_enc == stored  # never overwritten


def test_production_needs_the_keys_and_refuses_malformed_ones(app):
    base = {"ENV": "production", "SECRET_KEY": "s" * 32,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}
    with pytest.raises(RuntimeError, match="HOTLINE_DATA_KEYS must be set in production"):
        create_app(base)
    with pytest.raises(RuntimeError, match="HOTLINE_QUERY_CODE_KEY must be set in production"):
        create_app({**base, "DATA_KEYS": K1})
    with pytest.raises(RuntimeError, match="key 2 is not a Fernet key") as raised:
        create_app({**base, "DATA_KEYS": f"{K1}, not-a-key", "QUERY_CODE_KEY": "q" * 32})
    assert K1 not in str(raised.value)


def test_the_embedded_default_generates_keys_once_into_the_instance_folder(tmp_path):
    app = Flask("probe", instance_path=str(tmp_path))
    app.config.update(ENV="development", SECRET_KEY="one-secret")
    first = personal_data.load_keys(app)
    for name in ("data_keys", "query_code_key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    app.config["SECRET_KEY"] = "another-secret"
    again = personal_data.load_keys(app)
    token = first.data.encrypt(b"x")
    assert again.newest.decrypt(token) == b"x" and again.query_code == first.query_code
    assert Fernet(Path(tmp_path / "data_keys").read_text().strip()).decrypt(token) == b"x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data_keys", "query_code_key"]  # no temporary left


def test_keys_generate_prints_a_data_key(app):
    result = app.test_cli_runner().invoke(args=["keys", "generate"])
    assert result.exit_code == 0 and Fernet(result.output.strip())
