"""Schemathesis against /api/openapi.json (DESIGN.md §4, issue #12): requests generated from the
document, sent to the Flask app in-process (WSGI), as a supervisor with an API token. No answer may be
a server error, and every answer must match the document: a documented status code, its content
type and its schema, now the response models' (issue #13), including the errors any request may get
before its operation (400, 413, 415, 503), which the document lists by rule. Bounded: a few examples per
operation, so it runs with the suite.

HOTLINE_SCHEMATHESIS_EXAMPLES raises the bound for a longer run by hand."""
import json
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hotline.api.openapi import document

EXAMPLES = int(os.environ.get("HOTLINE_SCHEMATHESIS_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# The document as /api/openapi.json serves it (the test below checks that it is the same), loaded at
# import so that each operation is a test of its own.
schema = schemathesis.openapi.from_dict(document())


@pytest.fixture
def supervisor_headers(make_user, token_for):
    return token_for(make_user("supervisor"))


def test_the_document_is_the_one_served(client):
    assert client.get("/api/openapi.json").get_json() == json.loads(json.dumps(document()))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_answers_as_documented_and_never_with_a_server_error(case, app, supervisor_headers):
    case.call_and_validate(app=app, headers=supervisor_headers, checks=CHECKS)
