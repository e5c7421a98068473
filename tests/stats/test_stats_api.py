"""`GET /api/v1/stats/queue` (DESIGN.md §3) and `GET /api/v1/stats/summary` (the dashboard's figures for
any range): shapes, figures, who may read them (403), and bad parameters (422 in the error shape)."""
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hotline.cases.actions import ActionInput, take_action
from hotline.extensions import db
from hotline.outbox.relay import run_pending
from hotline.stats import queries
from hotline.stats.queries import Filters
from hotline.stats.refresh import drain

TIEDONG = "辽宁省鞍山市铁东区园林路12号"


@pytest.fixture
def world(make_case, make_user, token_for):
    """Two complaints at 铁西 (one settled, bought online), one at 铁东, a consultation answered at once."""
    handler = make_user("bureau", bureau="tiexi")
    settled = make_case(channel="web", business={"name": "优品旗舰店", "platform": "淘宝",
                                                 "address": "辽宁省鞍山市铁西区兴盛街道人民路88号"}).case
    make_case()
    make_case(business={"name": "铁东商店", "address": TIEDONG})
    make_case(kind="consultation", answer="可以退货。", subject="咨询退货")
    run_pending()
    db.session.refresh(settled)
    take_action(settled, handler, ActionInput(action="accept"))
    take_action(settled, handler, ActionInput(action="settle", recovered_amount="120.00"))
    db.session.commit()
    drain()
    tokens = {role: token_for(make_user(role)) for role in ("supervisor", "admin", "operator")}
    tokens["station"] = token_for(make_user("station", station="ST-TD-01"))
    tokens["tiexi"] = token_for(handler)
    tokens["tiedong"] = token_for(make_user("bureau", bureau="tiedong"))
    return tokens


def get(client, url, headers, status=200):
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_queue_as_documented(client, world):
    body = get(client, "/api/v1/stats/queue", world["supervisor"])
    assert set(body) == {"open", "overdue", "due_soon", "by_status", "by_bureau", "today"}
    assert body == queries.queue_stats()
    assert body["open"] == 2 and body["by_status"] == {"pending": 2}
    by_code = {row["code"]: row for row in body["by_bureau"]}
    assert by_code["tiexi"] == {"code": "tiexi", "name": "鞍山市市场监督管理局铁西分局", "open": 1, "overdue": 0}
    assert body["today"]["total"] == 4 and body["today"]["kind"] == {"complaint": 3, "consultation": 1}
    assert get(client, "/api/v1/stats/queue", world["admin"]) == body


def test_queue_filters(client, world):
    body = get(client, "/api/v1/stats/queue?bureau=tiedong&kind=complaint", world["supervisor"])
    assert body["open"] == 1 and [row["code"] for row in body["by_bureau"]] == ["tiedong"]
    assert get(client, "/api/v1/stats/queue?channel=web", world["supervisor"])["open"] == 0  # the web one closed
    assert get(client, "/api/v1/stats/queue?category=G01", world["supervisor"])["open"] == 0


def test_a_bureau_token_sees_its_own_bureau(client, world):
    body = get(client, "/api/v1/stats/queue", world["tiedong"])
    assert body["open"] == 1 and [row["code"] for row in body["by_bureau"]] == ["tiedong"]
    assert get(client, "/api/v1/stats/queue?bureau=tiedong", world["tiedong"])["open"] == 1
    error = get(client, "/api/v1/stats/queue?bureau=tiexi", world["tiedong"], 403)["error"]
    assert error["code"] == "forbidden"
    get(client, "/api/v1/stats/summary?bureau=tiexi", world["tiedong"], 403)
    summary = get(client, "/api/v1/stats/summary", world["tiexi"])
    assert [row["code"] for row in summary["by_bureau"]] == ["tiexi"]


@pytest.mark.parametrize("role", ["operator", "station"])
def test_other_roles_are_refused(client, world, role):
    for url in ("/api/v1/stats/queue", "/api/v1/stats/summary"):
        assert get(client, url, world[role], 403)["error"]["code"] == "forbidden"
        assert client.get(url).status_code == 401


@pytest.mark.parametrize("url, field", [
    ("/api/v1/stats/queue?kind=rumour", "kind"), ("/api/v1/stats/queue?bureau=nowhere", "bureau"),
    ("/api/v1/stats/queue?channel=x", "channel"), ("/api/v1/stats/queue?category=ZZ", "category"),
    ("/api/v1/stats/queue?from=2026-01-01", "from"), ("/api/v1/stats/summary?from=2026-02-30", "from"),
    ("/api/v1/stats/summary?to=tomorrow", "to"), ("/api/v1/stats/summary?from=2026-05-02&to=2026-05-01", "to"),
    ("/api/v1/stats/summary?from=2020-01-01&to=2026-01-01", "to"), ("/api/v1/stats/summary?colour=red", "colour"),
])
def test_bad_parameters_are_422_naming_them(client, world, url, field):
    error = get(client, url, world["supervisor"], 422)["error"]
    assert error["code"] == "invalid_fields" and field in error["fields"] and error["message"]


def test_summary_for_a_range(client, world):
    today = queries.today()
    body = get(client, "/api/v1/stats/summary", world["supervisor"])
    assert (body["from"], body["to"]) == ((today - timedelta(days=29)).isoformat(), today.isoformat())
    totals = queries.totals(Filters(today - timedelta(days=29), today))
    assert body["totals"]["received"] == totals.total["received"] == 4
    assert body["totals"]["recovered_amount"] == "120.00" and "recovered" not in body["totals"]
    assert body["totals"]["rates"]["mediated"] == 1.0 and body["totals"]["rates"]["satisfied"] is None
    assert body["totals"]["online"] == 1 and body["outcomes"] == {"answered": 1, "mediated": 1}
    assert {row["kind"]: row["received"] for row in body["by_kind"]} == {"complaint": 3, "consultation": 1}
    assert {row["channel"] for row in body["by_channel"]} == {"phone", "web"}
    assert {row["code"] for row in body["by_bureau"]} >= {"tiexi", "tiedong"}
    assert body["trend"]["unit"] == "day" and len(body["trend"]["points"]) == 30
    assert body["trend"]["points"][-1] == {"period": today.isoformat(), "received": 4, "closed": 2}
    assert body["top_businesses"]["items"][0]["received"] >= 1
    assert body["queue"]["open"] == 2


def test_summary_filters_and_long_ranges(client, world):
    today = queries.today()
    start = (today - timedelta(days=400)).isoformat()
    body = get(client, f"/api/v1/stats/summary?from={start}&to={today.isoformat()}&kind=complaint&bureau=tiexi",
               world["supervisor"])
    assert body["trend"]["unit"] == "month" and body["totals"]["received"] == 2
    assert body["filters"] == {"bureau": "tiexi", "kind": "complaint", "channel": None, "category": None}


def test_openapi_documents_both(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/v1/stats/queue", "/api/v1/stats/summary"):
        responses = paths[path]["get"]["responses"]
        assert {"200", "401", "403", "422"} <= set(responses)
    names = {p["name"] for p in paths["/api/v1/stats/summary"]["get"]["parameters"]}
    assert names == {"from", "to", "bureau", "kind", "channel", "category"}


@pytest.fixture
def supervisor(make_user, token_for):
    return token_for(make_user("supervisor"))


# Hypothesis reuses the function's fixtures across its examples: one user and token for all of them.
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(["from", "to", "bureau", "kind", "channel", "category", "x"]),
                              st.text(max_size=60), max_size=4))
def test_no_parameter_makes_a_server_error(client, supervisor, params):
    for path in ("/api/v1/stats/queue", "/api/v1/stats/summary"):
        response = client.get(path, query_string=params, headers=supervisor)
        assert response.status_code in (200, 400, 422), (path, params, response.get_data(as_text=True)[:300])
        if response.status_code != 200:
            assert response.get_json()["error"]["message"]
