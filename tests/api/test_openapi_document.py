"""The OpenAPI 3.1 document (issue #13, must show 2): valid, generated from the response models, covering every
route under /api/ and /open311/ with every status it can answer. That every response of the test suite
validates against it is checked for each request (tests/api/conformance.py, called from tests/conftest.py);
the tests here show that check at work, on the errors every operation can meet."""
import json
import re

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator

from hotline.api import schemas
from hotline.api.openapi import document
from tests.api.conformance import Conformance, path_key
from tests.conftest import complaint_payload

DOCUMENTED = ("/api/", "/open311/")


@pytest.fixture(scope="module")
def doc():
    return document()


def operations(doc):
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_the_document_is_valid_openapi_31(doc):
    assert doc["openapi"].startswith("3.1")
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in OpenAPIV31SpecValidator(doc).iter_errors()]
    assert not errors, "\n".join(errors[:20])


def test_the_page_serves_the_same_document(client, doc):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == json.loads(json.dumps(doc))


def test_every_route_has_an_entry_and_every_entry_a_route(app, doc):
    routes = {(path_key(rule.rule), method.lower()) for rule in app.url_map.iter_rules()
              if rule.rule.startswith(DOCUMENTED) for method in rule.methods - {"HEAD", "OPTIONS"}}
    entries = {(path, method) for path, method, _ in operations(doc)}
    assert not routes - entries, f"routes missing from the OpenAPI document: {sorted(routes - entries)}"
    assert not entries - routes, f"entries for routes that do not exist: {sorted(entries - routes)}"


def test_json_answers_are_described_by_models(doc):
    """No `{"type": "object"}` placeholder: each JSON answer of /api/v1 names a component generated from a model,
    and each component is a closed object (a field added without its model fails the suite)."""
    components = doc["components"]["schemas"]
    for path, method, operation in operations(doc):
        if not path.startswith("/api/v1/"):
            continue
        for status, response in operation["responses"].items():
            ref = response.get("$ref") or response["content"]["application/json"]["schema"]["$ref"]
            assert ref.startswith("#/components/"), (path, method, status)
    for name in ("CaseCreated", "CaseDetail", "CaseList", "CallerHistory", "AnswerList", "QueueStats", "StatsSummary",
                 "Alert", "AlertList", "PublicCase", "RatingOut", "InformationAdded", "Error"):
        assert components[name]["additionalProperties"] is False, name
    assert set(components["Error"]["properties"]) == {"error"}
    assert set(components["ErrorDetail"]["required"]) == {"code", "message", "fields"}


def test_every_operation_lists_the_errors_it_can_meet(doc):
    for path, method, operation in operations(doc):
        if not path.startswith("/api/v1/"):
            continue
        codes = set(operation["responses"])
        assert {"400", "503"} <= codes, (path, method)
        if method == "post":
            assert {"413", "415"} <= codes, (path, method)
        if operation.get("security") == []:
            assert "401" not in codes, (path, method)
        else:
            assert "401" in codes, (path, method)
        if "{" in path:
            assert "404" in codes, (path, method)


def test_security_parameters_and_headers(doc):
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "a staff API token"}
    public = {(path, method) for path, method, op in operations(doc) if op.get("security") == []}
    assert {("/api/v1/alerts", "get"), ("/api/v1/public/lookup", "post"), ("/api/openapi.json", "get"),
            ("/api/docs", "get")} <= public
    assert ("/api/v1/cases", "post") not in public
    for path in ("/api/v1/cases", "/api/v1/cases/{number}/actions"):
        operation = doc["paths"][path]["post"]
        assert {"$ref": "#/components/parameters/IdempotencyKey"} in operation["parameters"]
        ok = next(r for s, r in operation["responses"].items() if s.startswith("2"))
        assert "Idempotent-Replayed" in ok["headers"]
    names = {p["name"] for p in doc["paths"]["/api/v1/cases"]["get"]["parameters"]}
    assert names == {"status", "kind", "bureau", "channel", "overdue", "q", "page", "per_page"}


def test_open311_paths_are_included(doc):
    pytest.importorskip("hotline.open311.openapi")
    from hotline.open311.openapi import paths
    for path, item in paths().items():
        assert doc["paths"][path] == item


def test_the_generic_errors_of_every_operation_are_documented_and_shaped(client, app, doc, make_user, token_for):
    """Each operation, sent a NUL in its query (400), and each write a text/plain body (415) and an oversized
    one (413): the conformance check (tests/conftest.py) fails this test if any answer is undocumented or off
    its schema."""
    headers = token_for(make_user("supervisor"))
    values = {"number": "20260101000010", "phone": "13900001111", "alert_id": "1", "fmt": "json",
              "service_code": "complaint-G01"}
    seen = set()
    for path, method, _ in operations(doc):
        url = re.sub(r"{([^}]+)}", lambda m: values[m.group(1)], path)
        response = client.open(url + "?x=%00", method=method.upper(), headers=headers)
        seen.add((path, method, response.status_code))
        assert response.status_code in (400, 404), (path, method, response.status_code)
        if method == "post" and path.startswith("/api/"):
            response = client.post(url, data="hello", content_type="text/plain", headers=headers)
            assert response.status_code == 415, (path, response.status_code)
            big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
            response = client.post(url, data=json.dumps({"note": big}), content_type="application/json",
                                   headers=headers)
            assert response.status_code == 413, (path, response.status_code)
    assert len(seen) >= 20


def test_the_check_finds_a_field_the_model_does_not_name(app, client, make_user, token_for):
    """The conformance check itself: a real answer against a document whose model lacks one of its fields."""
    headers = token_for(make_user("operator"))
    response = client.post("/api/v1/cases", json=complaint_payload(), headers=headers)
    assert response.status_code == 201
    assert Conformance(app).check(response) is None
    check = Conformance(app)
    check.document["components"]["schemas"]["CaseCreated"]["properties"].pop("query_code")
    problem = check.check(response)
    assert "POST /api/v1/cases → 201" in problem and "'query_code' was unexpected" in problem
    response.status_code = 418
    assert "status 418 is not documented" in check.check(response)


def test_a_replayed_answer_is_the_documented_one(client, make_user, token_for):
    headers = {**token_for(make_user("operator")), "Idempotency-Key": "d-openapi-1"}
    first = client.post("/api/v1/cases", json=complaint_payload(), headers=headers)
    again = client.post("/api/v1/cases", json=complaint_payload(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == first.get_json()


def test_models_serialise_the_answers_they_describe(client, make_user, token_for):
    """A model reads back the answer exactly (the fields the endpoints send are the fields the models name)."""
    headers = token_for(make_user("supervisor"))
    created = client.post("/api/v1/cases", json=complaint_payload(), headers=headers).get_json()
    assert schemas.CaseCreated.model_validate(created).model_dump(mode="json", exclude_unset=True) == created
    detail = client.get(f"/api/v1/cases/{created['number']}", headers=headers).get_json()
    assert schemas.CaseDetail.model_validate(detail).model_dump(mode="json", exclude_unset=True) == detail


def test_the_docs_page_loads_its_files_from_this_app(client):
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)  # no inline script
    assets = re.findall(r'(?:src|href)="(/[^"]+)"', page)
    assert "/static/swagger-ui/swagger-ui-bundle.js" in assets and "/static/api-docs.js" in assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert "http" not in "".join(assets)
    licence = client.get("/static/swagger-ui/LICENSE").get_data(as_text=True)
    assert "Apache License" in licence
