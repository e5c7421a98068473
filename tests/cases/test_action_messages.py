"""Every action says what happens next (issue #7, missing step 10), a bureau that returns a case
lands on its inbox (bug 4), and withdrawal asks first (missing step 13)."""
import re
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from hotline.cases.models import Case
from hotline.cases.next_steps import Running, compose
from hotline.deadlines.models import CaseClock
from hotline.extensions import db
from hotline.outbox.relay import run_pending

TZ = "Asia/Shanghai"
# A period that ends at 24:00 on 2027-01-28 is stored as 00:00 of the 29th, local: 16:00 UTC on the 28th.
END_OF_JAN_28 = datetime(2027, 1, 28, 16, 0, tzinfo=UTC)


@pytest.fixture
def zh(app):
    with app.test_request_context(), force_locale("zh_Hans_CN"):
        yield


def test_accept_names_the_mediation_deadline_and_the_sms(zh):
    message = compose("accept", kind="complaint", number="2026 1125 0004 27", tz=TZ, sms=True,
                      running=[Running("mediation", END_OF_JAN_28)])
    assert message == "已受理。调解期限 2027-01-28；已短信告知消费者。"


def test_sms_is_mentioned_only_when_one_was_queued(zh):
    message = compose("start_verification", kind="report", number="x", tz=TZ, sms=False,
                      running=[Running("report_verification", END_OF_JAN_28)])
    assert message == "已开始核查。举报核查期限 2027-01-28。"


def test_a_paused_clock_says_so_instead_of_a_date(zh):
    message = compose("suspend", kind="complaint", number="x", tz=TZ,
                      running=[Running("mediation", END_OF_JAN_28, paused=True)])
    assert message == "调解已中止。调解计时暂停。"


def test_decline_names_its_ground(zh):
    message = compose("decline", kind="complaint", number="x", tz=TZ, sms=True, running=[],
                      ground="不属于市场监督管理部门职责范围")
    assert message == "不予受理：不属于市场监督管理部门职责范围。已短信告知消费者。"


def test_return_to_the_centre_says_the_case_left_the_bureau(zh):
    message = compose("return_to_centre", kind="complaint", number="2026 1125 0004 27", tz=TZ,
                      running=[Running("triage", END_OF_JAN_28)])
    assert message == "已退回指挥中心：2026 1125 0004 27。该案件已不在本局。"


def test_the_same_in_english(app):
    with app.test_request_context(), force_locale("en"):
        message = compose("accept", kind="complaint", number="x", tz=TZ, sms=True,
                          running=[Running("mediation", END_OF_JAN_28)])
    assert message == "Accepted. Mediation due 2027-01-28; the consumer was told by SMS."


@pytest.fixture
def routed(make_case, make_user):
    handler = make_user("bureau", bureau="tiexi")

    def make(**over):
        case = make_case(**over).case
        run_pending()
        db.session.expire_all()
        return case
    return make, handler


def post(client, case, csrf, **form):
    return client.post(f"/cases/{case.number}/actions", data={"version": case.version, "csrf_token": csrf, **form})


def flashes(client) -> str:
    page = client.get("/inbox").get_data(as_text=True)
    return " ".join(re.findall(r'<p class="flash ok">(.*?)</p>', page))


def test_accepting_on_the_page_flashes_the_mediation_deadline(client, routed, login):
    make, handler = routed
    case = make()
    csrf = login(client, handler)
    assert post(client, case, csrf, action="accept").status_code == 302
    due = db.session.scalar(select(CaseClock).where(CaseClock.case_id == case.id, CaseClock.clock == "mediation"))
    from hotline.deadlines.display import format_due
    assert flashes(client) == f"已受理。调解期限 {format_due(due.due_at)}；已短信告知消费者。"


def test_suspended_case_shows_clock_paused(client, routed, login):
    make, handler = routed
    case = make()
    csrf = login(client, handler)
    post(client, case, csrf, action="accept")
    db.session.expire_all()
    post(client, db.session.get(Case, case.id), csrf, action="suspend", reason="testing")
    assert "调解已中止。调解计时暂停。" in flashes(client)
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    deadlines = page[page.index('class="compact deadlines"'):]
    deadlines = deadlines[:deadlines.index("</ul>")]
    assert "计时暂停" in deadlines and not re.search(r"调解:\s*\d{4}-", deadlines)


def test_bureau_returning_a_case_lands_on_its_inbox_with_a_message(client, routed, login):
    make, handler = routed
    case = make()
    csrf = login(client, handler)
    response = post(client, case, csrf, action="return_to_centre", reason="经营地址在铁东区")
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox")
    response = client.get(response.headers["Location"])
    assert response.status_code == 200
    grouped = f"{case.number[:4]} {case.number[4:8]} {case.number[8:12]} {case.number[12:]}"
    assert f"已退回指挥中心：{grouped}。该案件已不在本局。" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "triage"


def test_withdraw_is_last_plain_and_asks_first(client, routed, login, make_user):
    make, _ = routed
    case = make()
    csrf = login(client, make_user("operator"))
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    forms = re.findall(r'<details class="action-(\w+)"', page)
    assert forms[-1] == "withdraw"
    withdraw = page[page.index('<details class="action-withdraw"'):]
    withdraw = withdraw[:withdraw.index("</details>")]
    assert '<details class="action-withdraw" open>' not in page  # never the form that greets the operator
    grouped = f"{case.number[:4]} {case.number[4:8]} {case.number[8:12]} {case.number[12:]}"
    assert re.search(r'<input type="checkbox" name="confirm" value="1" required> 确认撤回案件 ' + grouped, withdraw)
    assert 'class="primary"' not in withdraw
    response = post(client, case, csrf, action="withdraw", note="消费者来电撤诉")
    assert response.status_code == 422 and 'value="消费者来电撤诉"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "pending"
    assert post(client, case, csrf, action="withdraw", confirm="1").status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).outcome == "withdrawn"
    assert "已撤回，本件办结。已短信告知消费者。" in client.get(f"/cases/{case.number}").get_data(as_text=True)


def test_withdraw_sits_after_the_steps_forward_for_a_handler(client, routed, login):
    make, handler = routed
    case = make()
    login(client, handler)
    forms = re.findall(r'<details class="action-(\w+)"', client.get(f"/cases/{case.number}").get_data(as_text=True))
    assert forms[0] == "accept" and forms[-1] == "withdraw"
    assert forms.index("return_to_centre") < forms.index("withdraw")
