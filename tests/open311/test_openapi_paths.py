"""hotline.open311.openapi.paths(): a valid OpenAPI 3.1 fragment that covers every Open311 route, and the
JSON the endpoints answer matches it."""
import re

from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from hotline.open311.openapi import paths
from tests.open311.conftest import BASE, complaint_form


def schema_for(path: str, method: str, status: int) -> dict:
    return paths()[path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def check(response, path: str, method: str = "get") -> None:
    OAS31Validator(schema_for(path, method, response.status_code)).validate(response.get_json())


def test_the_paths_are_a_valid_openapi_31_document():
    validate({"openapi": "3.1.0", "info": {"title": "Open311", "version": "2"}, "paths": paths()})


def test_every_open311_route_has_its_path_and_methods(app):
    routes = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/open311/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert routes == {path: set(item) for path, item in paths().items()}


def test_the_answers_match_their_schemas(client, api_key_for):
    check(client.get(f"{BASE}/discovery.json"), f"{BASE}/discovery.{{fmt}}")
    check(client.get(f"{BASE}/services.json"), f"{BASE}/services.{{fmt}}")
    for code in ("complaint-G01", "report", "suggestion-S01"):
        check(client.get(f"{BASE}/services/{code}.json"), f"{BASE}/services/{{service_code}}.{{fmt}}")
    check(client.get(f"{BASE}/services/nothing.json"), f"{BASE}/services/{{service_code}}.{{fmt}}")
    created = client.post(f"{BASE}/requests.json", data=complaint_form(api_key_for()))
    check(created, f"{BASE}/requests.{{fmt}}", "post")
    check(client.post(f"{BASE}/requests.json", data=complaint_form(None)), f"{BASE}/requests.{{fmt}}", "post")
    check(client.get(f"{BASE}/requests.json"), f"{BASE}/requests.{{fmt}}")
    check(client.get(f"{BASE}/requests.json?page=0"), f"{BASE}/requests.{{fmt}}")
    number = created.get_json()[0]["service_request_id"]
    check(client.get(f"{BASE}/requests/{number}.json"), f"{BASE}/requests/{{number}}.{{fmt}}")
