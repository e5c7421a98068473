"""Issue #12 item 8, the pattern rather than the instances: every route, for a staff user who may open
most of them (and for station staff, whose intake page is their own), given path values and form or
query fields that once gave a 500 somewhere (a number of thousands of digits, a digit that is not
ASCII, the year 1, text longer than any column, a name that folds onto another field's): each answer
is below 500. The public and API routes are covered the same way."""
import re

import pytest

from hotline.extensions import limiter

PATH_VALUES = ["99999999999999999999", "²", "0001-01-01"]
FIELD_VALUES = ["9" * 5000, "²", "0001-01-01", "x" * 300]
FIELDS = ["id", "year", "position", "length", "extension", "page", "per_page", "day", "kind", "name", "version",
          "score", "threshold", "amount", "recovered_amount", "number", "code", "phone", "consumer", "consumer.phone.x",
          "complainants.².name", "value", "match", "bureau", "effective_from", "new_version", "version_action", "use",
          "complete", "text", "title", "body", "district", "sms_text", "confirm", "action", "reason", "note", "q",
          "status", "from", "to", "format", "table", "subject", "channel", "form_token", "received_at", "occurred_on"]
SKIP = {"static", "auth.logout", "auth.login"}


def _paths(rule, number: str) -> list[str]:
    if not rule.arguments:
        return [rule.rule]
    paths = []
    for value in [number, *PATH_VALUES]:
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(r"<[^>]*\b" + name + ">", value, path)
        paths.append(path)
    return paths


@pytest.mark.parametrize("role", ["admin", "station"])  # the station page is the station's own
def test_no_route_answers_500_to_hostile_values(app, client, make_user, login, token_for, make_case, monkeypatch, role):
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr(limiter, "enabled", False)
    number = make_case().case.number
    user = make_user(role, station="ST-TD-01" if role == "station" else None)
    csrf, headers = login(client, user), token_for(user)
    failures = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIP:
            continue
        for path in _paths(rule, number):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                for value in FIELD_VALUES:
                    fields = dict.fromkeys(FIELDS, value)
                    if method == "GET":
                        response = client.get(path, query_string=fields, headers=headers)
                    elif path.startswith("/api/"):
                        response = client.open(path, method=method, json=fields, headers=headers)
                    else:
                        response = client.open(path, method=method, data={**fields, "csrf_token": csrf})
                    if response.status_code >= 500:
                        failures.append((method, path[:60], value[:12], response.status_code))
    assert failures == []
