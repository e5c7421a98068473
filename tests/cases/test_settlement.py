"""The money recovered (issue #7, bug 6): no hard cap; a figure far above the amount in dispute is
confirmed by the handler. Food Safety Law art. 148 (10×, at least 1,000 yuan) and Consumer Rights
Protection Law art. 55 (3×, at least 500 yuan) make large outcomes lawful."""
import re
from decimal import Decimal

import pytest

from hotline.cases.models import Case
from hotline.cases.settlement import needs_confirmation
from hotline.extensions import db
from hotline.outbox.relay import run_pending


@pytest.mark.parametrize("amount,recovered,confirm", [
    ("36.50", "1036.50", False),   # expired milk: refund plus art. 148's 1,000-yuan minimum
    ("36.50", "1036.51", True),
    ("100.00", "400.00", False),   # 退一赔三, art. 55
    ("1000.00", "4000.00", False),  # refund plus three times the price
    ("1000.00", "4000.01", True),
    ("1000.00", "11000.00", True),  # art. 148's tenfold: lawful, but confirmed (an extra zero looks the same)
    ("0.00", "1000.00", False),
    ("0.00", "1000.01", True),
])
def test_which_figures_are_confirmed(amount, recovered, confirm):
    assert needs_confirmation(Decimal(amount), Decimal(recovered)) is confirm


def test_nothing_to_compare_without_an_amount_in_dispute():
    assert needs_confirmation(None, Decimal("99999")) is False


@pytest.fixture
def accepted(client, make_case, make_user, token_for):
    handler = make_user("bureau", bureau="tiexi")
    headers = token_for(handler)

    def make(amount="36.50"):
        case = make_case(amount=amount, subject="过期牛奶").case
        run_pending()
        assert client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "accept"},
                           headers=headers).status_code == 200
        db.session.expire_all()
        return case
    return make, handler, headers


def settle(client, case, headers, **body):
    return client.post(f"/api/v1/cases/{case.number}/actions", json={"action": "settle", **body}, headers=headers)


def test_milk_settled_for_the_food_safety_minimum(client, accepted):
    make, _, headers = accepted
    case = make()
    body = settle(client, case, headers, recovered_amount="1036.50", note="退款并赔偿1000元").get_json()
    assert (body["status"], body["outcome"], body["recovered_amount"]) == ("closed", "mediated", "1036.50")


def test_a_far_higher_figure_needs_confirm_true(client, accepted):
    make, _, headers = accepted
    case = make()
    response = settle(client, case, headers, recovered_amount="3650.00")  # fen typed for yuan?
    assert response.status_code == 422
    message = response.get_json()["error"]["fields"]["recovered_amount"]
    assert '"confirm": true' in message and "36.50" in message
    assert settle(client, case, headers, recovered_amount="3650.00", confirm="yes").status_code == 422
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "accepted"
    body = settle(client, case, headers, recovered_amount="3650.00", confirm=True).get_json()
    assert (body["status"], body["recovered_amount"]) == ("closed", "3650.00")


def test_the_page_asks_to_confirm_and_keeps_the_figure(client, accepted, login):
    make, handler, _ = accepted
    case = make()
    csrf = login(client, handler)
    form = {"action": "settle", "recovered_amount": "3650.00", "note": "赔偿协议：退款并赔偿", "version": case.version,
            "csrf_token": csrf}
    response = client.post(f"/cases/{case.number}/actions", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'name="recovered_amount"' in page and 'value="3650.00"' in page  # what was typed is still there
    assert "赔偿协议：退款并赔偿</textarea>" in page
    assert re.search(r'<input type="checkbox" name="confirm" value="1" required> 已核对：3650.00 元无误', page)
    assert "争议金额：36.50 元" in page and "远高于争议金额" in page
    response = client.post(f"/cases/{case.number}/actions", data={**form, "confirm": "1"})
    assert response.status_code == 302
    db.session.expire_all()
    closed = db.session.get(Case, case.id)
    assert (closed.status, closed.recovered_amount) == ("closed", Decimal("3650.00"))


def test_every_action_form_keeps_its_values_after_an_error(client, accepted, login):
    make, handler, _ = accepted
    case = make()
    csrf = login(client, handler)
    # suspend needs a reason; the note typed alongside is kept, and that form is the one open
    response = client.post(f"/cases/{case.number}/actions", data={
        "action": "suspend", "note": "送检中，等待报告", "version": case.version, "csrf_token": csrf})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="送检中，等待报告"' in page and '<details class="action-suspend" open>' in page
    assert '<details class="action-settle" open>' not in page
    # a stale page's action (409) also comes back with what was typed
    response = client.post(f"/cases/{case.number}/actions", data={
        "action": "settle", "recovered_amount": "50.00", "version": case.version - 1, "csrf_token": csrf})
    assert response.status_code == 409 and 'value="50.00"' in response.get_data(as_text=True)
