"""一事一评 (DESIGN.md §3 `POST /public/cases/{number}/rating`): once, after closing; staff see it."""
import re

from sqlalchemy import select

from hotline.cases.models import CaseEvent
from hotline.extensions import db
from hotline.portal.models import CaseRating


def rate(client, case, code, **body):
    return client.post(f"/api/v1/public/cases/{case.number}/rating", json={"code": code, **body})


def closed(filed, act):
    case, code = filed()
    act(case, "accept")
    act(case, "settle", recovered_amount="80.00")
    return case, code


def test_a_closed_case_is_rated_once(client, filed, act):
    case, code = closed(filed, act)
    response = rate(client, case, code, score=5, comment="处理及时，谢谢")
    assert response.status_code == 201 and response.get_json()["score"] == 5
    second = rate(client, case, code, score=1, comment="再评一次")
    assert second.status_code == 409
    ratings = db.session.scalars(select(CaseRating)).all()
    assert len(ratings) == 1 and ratings[0].score == 5 and ratings[0].bureau_id == case.bureau_id


def test_an_open_case_cannot_be_rated(client, filed):
    case, code = filed()
    assert rate(client, case, code, score=4).status_code == 409
    assert db.session.scalar(select(CaseRating)) is None


def test_a_wrong_code_gets_404(client, filed, act):
    case, _ = closed(filed, act)
    response = rate(client, case, "WRONG2", score=5)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_bad_scores_are_refused_with_the_field(client, filed, act):
    case, code = closed(filed, act)
    for score in (0, 6, "five", True, None, 2.5):
        response = rate(client, case, code, score=score)
        assert response.status_code == 422 and "score" in response.get_json()["error"]["fields"], score


def test_a_low_score_keeps_whether_the_bureau_was_at_fault_and_a_high_one_does_not(client, filed, act):
    case, code = closed(filed, act)
    assert rate(client, case, code, score=2, bureau_at_fault=True).status_code == 201
    assert db.session.scalar(select(CaseRating)).bureau_at_fault is True
    other, other_code = closed(filed, act)
    assert rate(client, other, other_code, score=4, bureau_at_fault=True).status_code == 201
    assert db.session.scalar(select(CaseRating).where(CaseRating.case_id == other.id)).bureau_at_fault is None


def test_the_rating_is_on_the_audit_trail_and_the_staff_case(client, filed, act, make_user, token_for, login):
    case, code = closed(filed, act)
    rate(client, case, code, score=1, comment="<script>alert(1)</script>拖了很久", bureau_at_fault=True)
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.action == "rate"))
    assert event.actor_label == "consumer" and event.data == {"score": 1, "bureau_at_fault": True}
    detail = client.get(f"/api/v1/cases/{case.number}", headers=token_for(make_user("supervisor"))).get_json()
    assert detail["rating"]["score"] == 1 and detail["rating"]["bureau_at_fault"] is True
    login(client, make_user("bureau", bureau="tiexi"))
    page = client.get(f"/cases/{case.number}").get_data(as_text=True)
    assert "评价" in page and "1分" in page and "因承办分局原因不满意：是" in page
    assert "<script>alert(1)" not in page and "拖了很久" in page
    assert "消费者评价" in page and "消费者" in page


def test_the_pages_ask_the_score_then_the_comment_and_the_bureau_question_for_a_low_score(client, filed, act):
    case, code = closed(filed, act)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/track").get_data(as_text=True)).group(1)
    client.post("/track", data={"number": case.number, "code": code, "csrf_token": token})
    status = client.get("/track/case").get_data(as_text=True)
    assert "评价办理情况" in status
    step1 = client.get("/track/rate").get_data(as_text=True)
    assert 'name="score"' in step1 and "是否因承办分局的原因不满意" not in step1
    assert "是否因承办分局的原因不满意" not in client.get("/track/rate?score=4").get_data(as_text=True)
    step2 = client.get("/track/rate?score=2").get_data(as_text=True)
    assert "是否因承办分局的原因不满意" in step2
    response = client.post("/track/rate", data={"score": "2", "bureau_at_fault": "yes", "comment": "太慢",
                                                "csrf_token": token})
    assert response.status_code == 302
    rating = db.session.scalar(select(CaseRating))
    assert (rating.score, rating.bureau_at_fault, rating.comment) == (2, True, "太慢")
    page = client.get("/track/case").get_data(as_text=True)
    assert "您的评价：2分" in page and 'href="/track/rate"' not in page


def test_closing_invites_the_consumer_to_rate_with_the_portal_link(filed, act, app, monkeypatch):
    from hotline.extensions import db
    from hotline.sms.models import SmsMessage
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://12315.example.cn/")
    case, _ = filed()
    act(case, "accept")
    act(case, "settle", recovered_amount="100.00")
    invitation = db.session.query(SmsMessage).filter_by(case_id=case.id, template_code="RATING_INVITATION").one()
    assert invitation.kind == "rating" and invitation.params["link"] == "https://12315.example.cn/track"


def test_no_invitation_without_a_public_address(filed, act):
    from hotline.extensions import db
    from hotline.sms.models import SmsMessage
    case, _ = filed()
    act(case, "accept")
    act(case, "settle", recovered_amount="100.00")
    assert db.session.query(SmsMessage).filter_by(case_id=case.id, template_code="RATING_INVITATION").count() == 0
