"""The access matrix (issue #12, DESIGN.md §4): every registered route and method × every role, with
the expected answer in ONE table below. A route without a row fails the test, so a new route must be
added here with its rule.

Each role gets its own world: a complaint logged at station A and routed to bureau A (铁西) with its
query code, an evidence file, alerts, a token, and so on. Requests are chosen to get past the access
check when it lets the role through, without changing what later requests see: an unknown workflow
action (422), an empty form (a form error), a draft alert that is published once. Reads go first,
then the writes, log-out last.

Expected answers: 302 on a page is the log-in redirect for someone not logged in (or, for a form, the
redirect after it was handled), 401 an API call without a token, 403 a role that may not, 404 a case
this user may not see (DESIGN.md: numbers cannot be probed)."""
import os
import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from hotline.alerts.operations import check_alert, create_alert, publish_alert
from hotline.alerts.subscriptions import unsubscribe_token
from hotline.auth.models import ApiToken
from hotline.auth.operations import create_token
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.reference.models import Answer, RoutingRule, StatutoryGround
from hotline.types import utcnow
from tests.conftest import PASSWORD, csrf_token

ROLES = ("anonymous", "consumer", "operator", "station_a", "station_b", "bureau_a", "bureau_b", "supervisor",
         "admin")
STATION_A, STATION_B, BUREAU_A, BUREAU_B = "ST-TD-01", "ST-TX-01", "tiexi", "tiedong"
OTHER_CODE = "AAAAAA"  # what someone without the query code sends

# ---------------------------------------------------------------------------------------------------
# THE TABLE. (method, rule) → how the request is made, and the answer per role, in ROLES order:
#   anonymous consumer operator station_a station_b bureau_a bureau_b supervisor admin
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    expected: str  # nine status codes, in ROLES order
    json: dict | None = None  # an API body
    form: dict | None = field(default=None)  # a page's form (the CSRF token is added)
    values: dict = field(default_factory=dict)  # path values other than the world's; "@name": the world's name
    query: str = ""  # the query string
    order: int = 0  # writes that change what later requests see go later (log-out last)

    def answers(self) -> dict[str, int]:
        codes = [int(c) for c in self.expected.split()]
        assert len(codes) == len(ROLES), self.expected
        return dict(zip(ROLES, codes, strict=True))


PUBLIC = "200 200 200 200 200 200 200 200 200"
STAFF_PAGE = "302 302 200 200 200 200 200 200 200"
CENTRE_PAGE = "302 302 403 403 403 403 403 200 200"
ADMIN_PAGE = "302 302 403 403 403 403 403 403 200"
READERS_PAGE = "302 302 403 403 403 200 200 200 200"  # statistics: the bureaus (their own) and the centre
CASE_A_PAGE = "302 302 200 200 404 200 404 200 200"
REGISTRARS_PAGE = "302 302 200 403 403 403 403 200 200"  # the console: operators and the centre

TABLE: dict[tuple[str, str], Row] = {
    # --- log-in, home, language, static files
    ("GET", "/"): Row("302 302 302 302 302 302 302 302 302"),
    ("GET", "/login"): Row(PUBLIC),
    ("POST", "/login"): Row(PUBLIC, form={"username": "nobody", "password": "wrong"}),
    ("POST", "/logout"): Row("302 302 302 302 302 302 302 302 302", form={}, order=99),
    ("GET", "/lang/<code>"): Row("302 302 302 302 302 302 302 302 302"),
    ("GET", "/static/<path:filename>"): Row(PUBLIC),
    # --- cases
    ("GET", "/cases"): Row(STAFF_PAGE),
    ("GET", "/cases/<number>"): Row(CASE_A_PAGE),
    ("POST", "/cases/<number>/actions"): Row("302 302 422 422 404 422 404 422 422", form={"action": "nothing"}),
    ("POST", "/cases/<number>/reveal"): Row("302 302 403 403 403 200 404 200 200", form={}),
    ("GET", "/cases/<number>/evidence/<int:evidence_id>"): Row(CASE_A_PAGE),
    ("GET", "/inbox"): Row("302 302 403 403 403 200 200 403 403"),
    ("GET", "/triage"): Row(CENTRE_PAGE),
    ("GET", "/extensions"): Row(CENTRE_PAGE),
    ("GET", "/intake/cases/<number>/next"): Row("302 302 200 200 404 403 403 200 200"),
    ("GET", "/console"): Row(REGISTRARS_PAGE),
    ("POST", "/console"): Row("302 302 422 403 403 403 403 422 422", form={}),
    ("GET", "/station"): Row("302 302 403 200 200 403 403 403 403"),  # station staff only
    ("POST", "/station"): Row("302 302 403 422 422 403 403 403 403", form={}),
    # --- the API
    ("GET", "/api/openapi.json"): Row(PUBLIC),
    ("GET", "/api/docs"): Row(PUBLIC),  # the document as a page, and Swagger UI's files for it
    ("GET", "/static/swagger-ui/<path:filename>"): Row(PUBLIC, values={"filename": "swagger-ui.css"}),
    ("GET", "/api/v1/cases"): Row("401 401 200 200 200 200 200 200 200"),
    ("POST", "/api/v1/cases"): Row("401 401 422 422 422 403 403 422 422", json={}),
    ("GET", "/api/v1/cases/<number>"): Row("401 401 200 200 404 200 404 200 200"),
    ("POST", "/api/v1/cases/<number>/actions"): Row("401 401 422 422 404 422 404 422 422",
                                                    json={"action": "nothing"}),
    ("GET", "/api/v1/callers/<phone>"): Row("401 401 200 200 200 200 200 200 200"),
    ("GET", "/api/v1/answers"): Row("401 401 200 200 200 200 200 200 200"),
    ("GET", "/api/v1/stats/queue"): Row("401 401 403 403 403 200 200 200 200"),
    ("GET", "/api/v1/stats/summary"): Row("401 401 403 403 403 200 200 200 200"),
    ("GET", "/api/v1/alerts"): Row(PUBLIC),
    ("POST", "/api/v1/alerts"): Row("401 401 403 403 403 403 403 201 201",
                                    json={"title": "预付卡提示", "body": "谨慎办卡。", "sms_text": "谨慎办理预付卡"}),
    ("POST", "/api/v1/alerts/<int:alert_id>/publish"): Row("401 401 403 403 403 403 403 200 200", json={},
                                                           values={"alert_id": "@draft2"}),
    # --- Open311 GeoReport v2 (issue #13): public reads (the world's case is a complaint, listed to all);
    # a POST authenticates by api_key only, never by the session, so without one every role gets 403
    ("GET", "/open311/v2/discovery.<fmt>"): Row(PUBLIC, values={"fmt": "xml"}),
    ("GET", "/open311/v2/services.<fmt>"): Row(PUBLIC, values={"fmt": "json"}),
    ("GET", "/open311/v2/services/<service_code>.<fmt>"): Row(PUBLIC, values={"fmt": "xml",
                                                                             "service_code": "complaint-G01"}),
    ("GET", "/open311/v2/requests.<fmt>"): Row(PUBLIC, values={"fmt": "json"}),
    ("POST", "/open311/v2/requests.<fmt>"): Row("403 403 403 403 403 403 403 403 403", form={},
                                                values={"fmt": "json"}),
    ("GET", "/open311/v2/requests/<number>.<fmt>"): Row(PUBLIC, values={"fmt": "xml"}),
    # the consumer's API: the query code is the key; without it, the same 404 as a wrong number
    ("POST", "/api/v1/public/lookup"): Row("404 200 404 404 404 404 404 404 404", json={}),
    ("POST", "/api/v1/public/cases/<number>/rating"): Row("404 409 404 404 404 404 404 404 404",
                                                          json={"score": 5}),
    ("POST", "/api/v1/public/cases/<number>/information"): Row("404 422 404 404 404 404 404 404 404", json={}),
    ("POST", "/api/v1/public/subscriptions"): Row("202 202 202 202 202 202 202 202 202",
                                                  json={"phone": "13900009999"}),
    ("POST", "/api/v1/public/subscriptions/confirm"): Row("422 422 422 422 422 422 422 422 422",
                                                          json={"phone": "13900009999", "code": "000000"}),
    # --- the consumer portal
    ("GET", "/track"): Row(PUBLIC),
    ("POST", "/track"): Row("404 404 404 404 404 404 404 404 404", form={"number": "{number}", "code": OTHER_CODE}),
    ("GET", "/track/case"): Row("302 200 302 302 302 302 302 302 302"),
    ("GET", "/track/add"): Row("302 200 302 302 302 302 302 302 302"),
    ("POST", "/track/add"): Row("302 422 302 302 302 302 302 302 302", form={}),
    ("GET", "/track/rate"): Row("302 302 302 302 302 302 302 302 302"),  # not closed: back to the status
    ("POST", "/track/rate"): Row("302 302 302 302 302 302 302 302 302", form={"score": "5"}),
    ("POST", "/track/leave"): Row("302 302 302 302 302 302 302 302 302", form={}, order=90),
    ("GET", "/care"): Row("302 302 302 302 302 302 302 302 302"),
    ("GET", "/submit"): Row(PUBLIC),
    ("POST", "/submit"): Row("422 422 422 422 422 422 422 422 422", form={}),
    ("POST", "/submit/confirm"): Row("422 422 422 422 422 422 422 422 422", form={}),
    ("GET", "/submit/receipt"): Row("302 302 302 302 302 302 302 302 302"),
    # --- consumer alerts (消费警示): public pages, the centre writes them
    ("GET", "/alerts"): Row(PUBLIC),
    ("GET", "/alerts/<int:alert_id>"): Row(PUBLIC, values={"alert_id": "@published"}),
    ("GET", "/alerts/subscribe"): Row(PUBLIC),
    ("POST", "/alerts/subscribe"): Row("422 422 422 422 422 422 422 422 422", form={}),
    ("GET", "/alerts/subscribe/confirm"): Row(PUBLIC),
    ("POST", "/alerts/subscribe/confirm"): Row("422 422 422 422 422 422 422 422 422", form={}),
    ("GET", "/alerts/unsubscribe"): Row(PUBLIC),
    ("POST", "/alerts/unsubscribe"): Row("422 422 422 422 422 422 422 422 422", form={}),
    ("GET", "/alerts/unsubscribe/confirm"): Row(PUBLIC),
    ("POST", "/alerts/unsubscribe/confirm"): Row("422 422 422 422 422 422 422 422 422", form={}),
    ("GET", "/alerts/unsubscribe/<token>"): Row(PUBLIC),
    ("POST", "/alerts/unsubscribe/<token>"): Row(PUBLIC, form={}, order=50),
    ("GET", "/manage/alerts"): Row(CENTRE_PAGE),
    ("GET", "/manage/alerts/new"): Row(CENTRE_PAGE),
    ("POST", "/manage/alerts/new"): Row("302 302 403 403 403 403 403 422 422", form={}),
    ("GET", "/manage/alerts/<int:alert_id>"): Row(CENTRE_PAGE),
    ("GET", "/manage/alerts/<int:alert_id>/edit"): Row(CENTRE_PAGE),
    ("POST", "/manage/alerts/<int:alert_id>/edit"): Row("302 302 403 403 403 403 403 422 422", form={}),
    ("GET", "/manage/alerts/<int:alert_id>/preview"): Row(CENTRE_PAGE),
    ("GET", "/manage/alerts/<int:alert_id>/progress"): Row(CENTRE_PAGE),
    ("POST", "/manage/alerts/<int:alert_id>/publish"): Row("302 302 403 403 403 403 403 302 302", form={},
                                                           order=60),
    ("POST", "/manage/alerts/<int:alert_id>/withdraw"): Row("302 302 403 403 403 403 403 302 302", form={},
                                                            values={"alert_id": "@published"}, order=60),
    # --- reference data: the answer bank and statutory grounds
    ("GET", "/answers"): Row(STAFF_PAGE),
    ("GET", "/answers/new"): Row(CENTRE_PAGE),
    ("POST", "/answers/new"): Row("302 302 403 403 403 403 403 422 422", form={}),
    ("GET", "/answers/<code>/edit"): Row(CENTRE_PAGE),
    ("POST", "/answers/<code>/edit"): Row("302 302 403 403 403 403 403 422 422", form={}),
    # a pack conflict to resolve: none is pending, so the centre gets 404 once past the role check
    ("POST", "/answers/<code>/pack"): Row("302 302 403 403 403 403 403 404 404", form={"use": "keep"}),
    ("POST", "/grounds/<version>/<code>/pack"): Row("302 302 403 403 403 403 403 404 404", form={"use": "keep"},
                                                    values={"code": "@ground_code"}),
    # --- deadlines: notices, the overdue queue, the calendar and the rulebook
    ("GET", "/notices"): Row(STAFF_PAGE),
    ("POST", "/notices/read"): Row("302 302 302 302 302 302 302 302 302", form={}),
    ("GET", "/overdue"): Row("302 302 403 403 403 200 200 200 200"),
    ("GET", "/admin/calendar"): Row(CENTRE_PAGE),
    ("POST", "/admin/calendar"): Row("302 302 403 403 403 403 403 422 422", form={}),
    ("POST", "/admin/calendar/day"): Row("302 302 403 403 403 403 403 422 422", form={}),
    ("POST", "/admin/calendar/day/<day>/delete"): Row("302 302 403 403 403 403 403 302 302", form={}),
    ("POST", "/admin/calendar/year"): Row("302 302 403 403 403 403 403 302 302", form={}),
    ("GET", "/admin/deadlines"): Row(CENTRE_PAGE),
    ("POST", "/admin/deadlines"): Row("302 302 403 403 403 403 403 302 302", form={}),
    # --- routing rules
    ("GET", "/admin/routing"): Row(CENTRE_PAGE),
    ("POST", "/admin/routing/<int:rule_id>"): Row("302 302 403 403 403 403 403 422 422", form={}),
    ("POST", "/admin/routing/new"): Row("302 302 403 403 403 403 403 422 422", form={}),
    # --- API tokens (the administrator)
    ("GET", "/admin/tokens"): Row(ADMIN_PAGE),
    ("POST", "/admin/tokens/<int:token_id>/revoke"): Row("302 302 403 403 403 403 403 403 302", form={}),
    # --- statistics and reports (bureaus see their own bureau's figures)
    ("GET", "/stats/"): Row(READERS_PAGE),
    ("GET", "/stats/cases"): Row(READERS_PAGE, query="figure=received"),
    ("GET", "/stats/export/<table>.<fmt>"): Row(READERS_PAGE),
    ("GET", "/stats/reports/monthly"): Row(READERS_PAGE),
    ("GET", "/stats/reports/monthly/<table>.<fmt>"): Row(READERS_PAGE, values={"table": "kind"}),
    ("GET", "/stats/reports/year"): Row(READERS_PAGE),
    ("GET", "/stats/scoreboard/"): Row(READERS_PAGE),
    ("GET", "/stats/scoreboard/export.<fmt>"): Row(READERS_PAGE),
    # --- 投诉公示 (Order 121 art. 38): public; a business below the threshold is not shown to anyone
    ("GET", "/disclosure"): Row(PUBLIC),
    ("GET", "/disclosure/<path:key>"): Row("404 404 404 404 404 404 404 404 404"),
    ("GET", "/manage/disclosure"): Row(CENTRE_PAGE),
    # supervisors read the rule, administrators keep it
    ("POST", "/manage/disclosure"): Row("302 302 403 403 403 403 403 403 422",
                                        form={"action": "rule", "threshold": "x"}),
    # --- SMS gateways push receipts and replies with the shared token, never a user's session
    ("POST", "/sms/receipts/<backend>"): Row("403 403 403 403 403 403 403 403 403", json={}),
    ("POST", "/sms/inbound/<backend>"): Row("403 403 403 403 403 403 403 403 403", json={}),
}


# ---------------------------------------------------------------------------------------------------
# The world each role meets, and the requests.
# ---------------------------------------------------------------------------------------------------


def registered_routes(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})}


@pytest.fixture
def world(app, make_case, make_user, tmp_path):
    from hotline.portal import evidence
    app.config["STORAGE_DIR"] = str(tmp_path / "evidence")
    app.extensions.pop("hotline_storage", None)
    users = {
        "operator": make_user("operator"), "station_a": make_user("station", station=STATION_A),
        "station_b": make_user("station", station=STATION_B), "bureau_a": make_user("bureau", bureau=BUREAU_A),
        "bureau_b": make_user("bureau", bureau=BUREAU_B), "supervisor": make_user("supervisor"),
        "admin": make_user("admin"),
    }
    registered = make_case(channel="station", station=STATION_A,
                           consumer={"name": "张三", "phone": "13900001111", "address": "鞍山市铁西区人民路1号"})
    run_pending()
    case = registered.case
    db.session.refresh(case)
    assert case.bureau.code == BUREAU_A and case.station.code == STATION_A
    item = evidence.attach_files(case, [("receipt.pdf", b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")],
                                 "consumer")[0]
    alert_input = check_alert({"title": "预付卡提示", "body": "谨慎办卡。", "sms_text": "谨慎办理预付卡"})
    draft, draft2 = create_alert(alert_input, users["supervisor"]), create_alert(alert_input, users["supervisor"])
    published = create_alert(alert_input, users["supervisor"])
    db.session.flush()
    publish_alert(published.id, users["supervisor"])
    from hotline.alerts.models import Subscription
    subscription = Subscription(phone="13900008888", status="confirmed", channel="web", consent_at=utcnow())
    db.session.add(subscription)
    create_token(users["operator"].username)
    db.session.commit()
    token = db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())).first()
    ground = db.session.scalars(select(StatutoryGround).order_by(StatutoryGround.id)).first()
    values = {
        "number": case.number, "evidence_id": item.id, "alert_id": draft.id, "token_id": token.id,
        "rule_id": db.session.scalars(select(RoutingRule.id).order_by(RoutingRule.id)).first(),
        "code": db.session.scalars(select(Answer.code).order_by(Answer.id)).first(),
        "version": ground.version, "day": "2099-01-01",
        "token": unsubscribe_token(subscription), "key": "nobody-here", "backend": "aliyun", "table": "bureau",
        "fmt": "csv", "phone": "13900001111", "filename": "hotline.css",
    }
    yield {"users": users, "values": values, "query_code": registered.query_code, "published": published.id,
           "draft2": draft2.id, "ground_code": ground.code}
    app.config.pop("STORAGE_DIR")
    app.extensions.pop("hotline_storage", None)


def path_for(rule: str, row: Row, world: dict) -> str:
    values = dict(world["values"])
    for name, value in row.values.items():
        values[name] = world[value[1:]] if isinstance(value, str) and value.startswith("@") else value

    def fill(match: re.Match) -> str:
        return str(values[match.group(1).split(":")[-1]])
    path = re.sub(r"<([^>]+)>", fill, rule)
    return f"{path}?{row.query}" if row.query else path


def act_as(client, role: str, world: dict, token_for) -> dict:
    """Log the client in as the role (staff), or look the case up with its code (consumer). Returns
    the headers for API calls."""
    if role in world["users"]:
        csrf = csrf_token(client)
        user = world["users"][role]
        response = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": csrf})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return token_for(user)
    if role == "consumer":
        response = client.post("/track", data={"number": world["values"]["number"], "code": world["query_code"],
                                               "csrf_token": csrf_token(client)})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return {}


def request(client, method: str, rule: str, row: Row, role: str, world: dict, headers: dict):
    path = path_for(rule, row, world)
    if rule.startswith("/api/"):
        body = dict(row.json or {})
        if "/public/" in rule and rule != "/api/v1/public/subscriptions" and "subscriptions" not in rule:
            body.setdefault("number", world["values"]["number"])
            body["code"] = world["query_code"] if role == "consumer" else OTHER_CODE
        kwargs = {"headers": headers}
        if method == "POST":
            kwargs["json"] = body
        return client.open(path, method=method, **kwargs)
    if method == "GET":
        return client.get(path)
    form = {k: v.format(**world["values"]) for k, v in (row.form or {}).items()}
    form["csrf_token"] = csrf_token_of(client)
    return client.post(path, data=form)


def csrf_token_of(client) -> str:
    """The CSRF token of this client's session (a page with a form carries it)."""
    page = client.get("/submit").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    assert match, "no CSRF token on the form"
    return match.group(1)


def test_every_route_has_a_row(app):
    missing = sorted(registered_routes(app) - set(TABLE))
    stale = sorted(set(TABLE) - registered_routes(app))
    assert not missing, "routes without a row in the access matrix (add them with their rule):\n" + "\n".join(
        f"  {method} {rule}" for method, rule in missing)
    assert not stale, f"rows for routes that no longer exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(role, app, client, world, token_for):
    headers = act_as(client, role, world, token_for)
    rows = sorted((row.order, method != "GET", rule, method) for (method, rule), row in TABLE.items())
    wrong, observed = [], {}
    for _order, _write, rule, method in rows:
        if (method, rule) not in registered_routes(app):
            continue
        row = TABLE[(method, rule)]
        response = request(client, method, rule, row, role, world, headers)
        db.session.rollback()
        observed[(method, rule)] = response.status_code
        expected = row.answers()[role]
        if response.status_code != expected:
            wrong.append(f"  {method} {rule}: {response.status_code}, expected {expected}")
    if os.environ.get("HOTLINE_MATRIX_OBSERVE"):
        print(f"\nOBSERVED {role}: " + " ".join(f"{m} {r}={c};" for (m, r), c in sorted(observed.items())))
    assert not wrong, f"{role}: answers that differ from the matrix:\n" + "\n".join(wrong)
