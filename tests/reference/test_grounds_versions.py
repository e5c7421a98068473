"""Statutory grounds versioned with the rulebook (issue #8): each Order's grounds with their article as
published, and a case offers and accepts only the grounds of its own version."""
import re

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.reference.models import StatutoryGround
from hotline.reference.queries import grounds_for

ORDER_20_DAY = "2026-03-10T10:00:00+08:00"  # received before 2026-04-15: Order 20 for the case's whole life


@pytest.fixture
def routed(make_case, make_user, token_for, login, client):
    """A complaint routed to 铁西; the handler's API headers and a logged-in page session."""
    handler = make_user("bureau", bureau="tiexi")

    def make(**over):
        case = make_case(**over).case
        run_pending()
        db.session.expire_all()
        return case
    return make, handler, token_for(handler)


def offered(page: str, action: str) -> list[str]:
    form = page.split(f'class="action-{action}"', 1)[1].split("</form>", 1)[0]
    return re.findall(r'<option value="([A-Z]\d\d)"', form)


def active(version: str, purpose: str) -> list[StatutoryGround]:
    return list(db.session.scalars(select(StatutoryGround).where(
        StatutoryGround.version == version, StatutoryGround.purpose == purpose, StatutoryGround.active)))


def test_order_121_has_its_seven_decline_and_eight_termination_grounds_with_their_articles():
    declines = active("order-121", "decline")
    assert len(declines) == 7 and all("第121号)第" in g.legal_basis and "第16条" in g.legal_basis for g in declines)
    d08 = next(g for g in declines if g.code == "D08")
    assert d08.text == "冒用他人名义或者拒不配合市场监督管理部门核验真实身份信息"
    assert "第16条第（六）项" in d08.legal_basis
    assert "提供虚假材料" in next(g for g in declines if g.code == "D05").text
    assert "其他调解组织" not in next(g for g in declines if g.code == "D02").text
    terminations = active("order-121", "terminate")
    assert len(terminations) == 8 and all("第23条第一款" in g.legal_basis for g in terminations)
    assert {g.code: g.text for g in terminations}["T08"] == "投诉人、被投诉人死亡或者主体资格灭失"
    assert "第四十二条" in {g.code: g.text for g in terminations}["T06"]
    reports = {g.code: g.legal_basis for g in active("order-121", "report_decline")}
    assert "第35条" in reports["R01"] and "第28条" in reports["R02"] and "第34条" in reports["R03"]


def test_order_20_grounds_cite_its_own_articles():
    """Termination is Order 20 art. 21 (art. 26 is about branch offices), declining art. 15."""
    for g in active("order-20", "terminate"):
        assert "第26条" not in g.legal_basis
        assert "第21条" in g.legal_basis or g.local_rule
    assert all("第15条" in g.legal_basis for g in active("order-20", "decline"))
    assert not [g for g in active("order-20", "decline") if g.code == "D08"]


def test_grounds_in_neither_order_are_local_rules_and_not_offered_under_order_121():
    for code in ("D06", "T07"):
        old = db.session.scalar(select(StatutoryGround).filter_by(version="order-121", code=code))
        assert old.local_rule and not old.active  # kept only so that cases declined with it keep its meaning
    t07 = db.session.scalar(select(StatutoryGround).filter_by(version="order-20", code="T07"))
    assert t07.local_rule and "第26条" not in t07.legal_basis


def test_the_decline_form_offers_only_the_grounds_of_the_cases_version(client, routed, login):
    make, handler, _ = routed
    old = make(received_at=ORDER_20_DAY, occurred_on="2026-03-01")
    new = make()
    assert (old.rulebook_version, new.rulebook_version) == ("order-20", "order-121")
    login(client, handler)
    old_codes = offered(client.get(f"/cases/{old.number}").get_data(as_text=True), "decline")
    new_codes = offered(client.get(f"/cases/{new.number}").get_data(as_text=True), "decline")
    assert "D08" not in old_codes and "D06" in old_codes
    assert "D08" in new_codes and "D06" not in new_codes
    assert new_codes == ["D01", "D02", "D03", "D04", "D05", "D07", "D08"]


def test_the_api_refuses_a_ground_of_the_other_version(client, routed):
    make, _, headers = routed
    old = make(received_at=ORDER_20_DAY, occurred_on="2026-03-01")
    response = client.post(f"/api/v1/cases/{old.number}/actions", json={"action": "decline", "reason": "D08"},
                           headers=headers)
    assert response.status_code == 422 and "reason" in response.get_json()["error"]["fields"]
    new = make()
    response = client.post(f"/api/v1/cases/{new.number}/actions", json={"action": "decline", "reason": "D06"},
                           headers=headers)
    assert response.status_code == 422
    response = client.post(f"/api/v1/cases/{new.number}/actions", json={"action": "decline", "reason": "D08"},
                           headers=headers)
    assert response.status_code == 200


def test_the_decline_cites_the_text_and_article_of_the_cases_version(client, routed):
    make, _, headers = routed
    old, new = make(received_at=ORDER_20_DAY, occurred_on="2026-03-01"), make()
    for case, order, article in ((old, "第20号", "第15条第（二）项"), (new, "第121号", "第16条第（二）项")):
        body = client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "decline", "reason": "D02"},
                           headers=headers).get_json()
        reason = body["events"][-1]["reason"]
        assert order in reason and article in reason
    events = client.get(f"/api/v1/cases/{old.number}", headers=headers).get_json()["events"]
    assert "其他调解组织" in events[-1]["reason"]  # Order 20's wording of 15(二)


def test_a_case_without_a_stored_version_falls_back_to_its_day_of_receipt(routed):
    make, _, _ = routed
    case = make(received_at=ORDER_20_DAY, occurred_on="2026-03-01")
    case.rulebook_version = None
    assert "D08" not in [g.code for g in grounds_for(case, "decline")]
