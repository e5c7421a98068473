"""The OpenAPI 3.1 document at /api/openapi.json, generated from the request and response models (the
`schemas.py` of each package), and the docs page at /api/docs.

Each operation is declared once below (its models, the errors it answers itself); the statuses that the
app's global checks can give any request are added by rule (`_general_errors`), so the document lists every
status an operation can really answer. Schemas come from pydantic's `models_json_schema`, all models at
once, so each appears once under components/schemas and the names never clash."""
import copy
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, render_template, send_from_directory
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from hotline.api import schemas
from hotline.cases.schemas import CaseIn

docs = Blueprint("openapi", __name__)
REF = "#/components/schemas/{model}"
JSON = "application/json"


@dataclass(frozen=True)
class Operation:
    """One method of one path. `ok`: the success statuses and their body's model (or a raw JSON schema);
    `errors`: the error statuses the operation answers itself (401, 403, 404, 409, 422, 429)."""
    operation_id: str
    summary: str
    ok: dict[int, type[BaseModel] | dict]
    errors: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    tag: str = "cases"
    public: bool = False  # no token: `security: []`
    idempotent: bool = False  # takes Idempotency-Key (hotline/api/idempotency.py)
    media: str = JSON
    description: str | None = None
    database: bool = True  # reads the database, so a 503 when it is down


ERROR_TEXT = {
    400: "Unreadable: not JSON or not UTF-8, a key twice, a character that cannot be stored (NUL) in the address, "
         "the query or the body, or a bad Idempotency-Key header",
    401: "No valid token (send Authorization: Bearer TOKEN) or staff session",
    403: "The role may not do this",
    404: "Not found, or not visible to this user (numbers cannot be probed)",
    409: "Not allowed in the current state, or changed meanwhile; nothing was changed",
    413: "The body is too large",
    415: "The body is not sent as UTF-8 JSON (Content-Type: application/json)",
    422: "Invalid fields or parameters: the reason for each is in `error.fields`",
    429: "Too many requests: try again later",
    503: "A dependency (the database) is unavailable: try again shortly",
}
SUCCESS_TEXT = {200: "OK", 201: "Created", 202: "Accepted"}
WRITES = ("post", "put", "patch", "delete")
PATH_PARAMETERS = {
    "number": {"type": "string", "description": "the case number"},
    "phone": {"type": "string", "description": "a phone number (normalised as in China: +86, spaces ignored)"},
    # hotline/security.py IdConverter: a larger number is a 404 at routing
    "alert_id": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
}
TAGS = [
    {"name": "cases", "description": "Register, list, read and handle cases (staff)"},
    {"name": "reference", "description": "Callers' history and the answer bank, for the console"},
    {"name": "statistics", "description": "The open queue and the dashboard's figures"},
    {"name": "alerts", "description": "Consumer alerts (消费警示) and SMS subscriptions"},
    {"name": "public", "description": "The consumer's endpoints: the query code is the key"},
    {"name": "Open311", "description": "Open311 GeoReport v2, in XML and JSON"},
    {"name": "documentation", "description": "This document and its page"},
]


def _operations() -> dict[str, dict[str, Operation]]:
    from hotline.alerts import schemas as alerts
    from hotline.portal import schemas as portal
    from hotline.stats.api import openapi_paths as stats_paths
    case = schemas.CaseDetail
    return {
        "/api/v1/cases": {
            "post": Operation("create_case", "Register a case", {201: schemas.CaseCreated},
                              (401, 403, 409, 422, 429), body=CaseIn, idempotent=True,
                              description="403 for a role that may not register cases (a bureau); 429 past the "
                                          "intake limit of the token or session."),
            "get": Operation("list_cases", "List the cases this user may see, newest first", {200: schemas.CaseList},
                             (401, 422), query=schemas.CaseListQuery)},
        "/api/v1/cases/{number}": {
            "get": Operation("get_case", "One case", {200: case}, (401, 404))},
        "/api/v1/cases/{number}/actions": {
            "post": Operation("take_action", "Take a workflow action (DESIGN.md §2)", {200: case},
                              (401, 403, 404, 409, 422), body=schemas.ActionIn, idempotent=True,
                              description="403 if the role may not take it or the case is at another bureau, 409 "
                                          "if the status does not allow it or the case changed since `version`.")},
        "/api/v1/callers/{phone}": {
            "get": Operation("caller_history", "A caller's earlier cases", {200: schemas.CallerHistory},
                             (401, 404, 422), tag="reference")},
        "/api/v1/answers": {
            "get": Operation("search_answers", "Search the answer bank", {200: schemas.AnswerList}, (401,),
                             query=schemas.AnswerQuery, tag="reference")},
        **stats_paths(),
        "/api/v1/alerts": {
            "get": Operation("list_alerts", "Published consumer alerts, newest first", {200: alerts.AlertList},
                             (422,), query=alerts.AlertsQuery, tag="alerts", public=True),
            "post": Operation("create_alert", "Write a consumer alert (a draft)", {201: alerts.Alert},
                              (401, 403, 422), body=alerts.AlertIn, tag="alerts")},
        "/api/v1/alerts/{alert_id}/publish": {
            "post": Operation("publish_alert", "Publish a draft alert and send it to the subscribers",
                              {200: alerts.Alert}, (401, 403, 404, 409), tag="alerts",
                              description="409 if the alert is not a draft.")},
        "/api/v1/public/subscriptions": {
            "post": Operation("subscribe", "Ask for alerts by SMS: a code is sent", {202: alerts.CodeSent},
                              (422, 429), body=alerts.SubscriptionIn, tag="alerts", public=True,
                              description="The same answer for every valid number, known or not.")},
        "/api/v1/public/subscriptions/confirm": {
            "post": Operation("confirm_subscription", "Confirm a subscription with the code sent by SMS",
                              {200: alerts.SubscriptionConfirmed}, (422, 429), body=alerts.SubscriptionConfirmIn,
                              tag="alerts", public=True)},
        "/api/v1/public/lookup": {
            "post": Operation("lookup_case", "The consumer's view of a case, by its number and query code",
                              {200: portal.PublicCase}, (404, 422, 429), body=portal.LookupIn, tag="public",
                              public=True, description="The same 404 whether the number or the code is wrong; "
                                                       "limited per number and per client.")},
        "/api/v1/public/cases/{number}/rating": {
            "post": Operation("rate_case", "Rate the handling, once, after the case closed", {201: portal.RatingOut},
                              (404, 409, 422, 429), body=portal.RatingIn, tag="public", public=True,
                              description="409 before the case closed and for a second rating.")},
        "/api/v1/public/cases/{number}/information": {
            "post": Operation("add_information", "Add information to an open case", {201: portal.InformationAdded},
                              (404, 409, 422, 429), body=portal.InformationIn, tag="public", public=True,
                              description="409 once the case is closed.")},
        "/api/openapi.json": {
            "get": Operation("openapi_document", "This document", {200: {"type": "object"}}, tag="documentation",
                             public=True, database=False)},
        "/api/docs": {
            "get": Operation("api_docs", "This document as a page (Swagger UI, served from this app)",
                             {200: {"type": "string"}}, tag="documentation", public=True, media="text/html",
                             database=False)},
    }


def _general_errors(method: str, op: Operation) -> tuple[int, ...]:
    """What the app's own checks can answer before the view (hotline/security.py, hotline/errors.py): 400 for
    an unstorable character anywhere, 413/415 for a write's body, 503 when the database is down."""
    codes = {400}
    if method in WRITES:
        codes |= {413, 415}
    if op.database:
        codes.add(503)
    return tuple(sorted(codes | set(op.errors)))


def _schemas(operations: dict[str, dict[str, Operation]]) -> tuple[dict, dict]:
    """({(model, mode): schema or $ref}, components) for every model the operations use."""
    models: set[tuple[type[BaseModel], str]] = {(schemas.Error, "serialization")}
    for path in operations.values():
        for op in path.values():
            if op.body is not None:
                models.add((op.body, "validation"))
            models.update((m, "serialization") for m in op.ok.values() if isinstance(m, type))
    ordered = sorted(models, key=lambda pair: (pair[0].__name__, pair[1]))
    refs, definitions = models_json_schema(ordered, ref_template=REF)
    return refs, definitions.get("$defs", {})


def _parameters(path: str, op: Operation) -> list[dict]:
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": PATH_PARAMETERS.get(name, {"type": "string"})} for name in re.findall(r"{([^}]+)}", path)]
    if op.query is not None:
        schema = op.query.model_json_schema(mode="validation", ref_template=REF)
        required = set(schema.get("required", []))
        for name, field in schema["properties"].items():
            field = {k: v for k, v in field.items() if k != "title"}
            description = field.pop("description", None)
            branches = [b for b in field.pop("anyOf", []) if b != {"type": "null"}]
            if len(branches) == 1:  # a query parameter is absent, never null
                field = {**branches[0], **field}
            if field.get("default", 0) is None:
                del field["default"]
            parameter = {"name": name, "in": "query", "required": name in required, "schema": field}
            if description:
                parameter["description"] = description
            parameters.append(parameter)
    if op.idempotent:
        parameters.append({"$ref": "#/components/parameters/IdempotencyKey"})
    return parameters


def _operation(path: str, method: str, op: Operation, refs: dict) -> dict:
    def content(model) -> dict:
        schema = refs[(model, "serialization")] if isinstance(model, type) else model
        return {op.media: {"schema": schema}}

    responses: dict[str, Any] = {}
    for status, model in op.ok.items():
        responses[str(status)] = {"description": SUCCESS_TEXT[status], "content": content(model)}
        if op.idempotent:
            responses[str(status)]["headers"] = {"Idempotent-Replayed": {"$ref": "#/components/headers/Replayed"}}
    for status in _general_errors(method, op):
        responses[str(status)] = {"$ref": f"#/components/responses/E{status}"}
    out = {"operationId": op.operation_id, "summary": op.summary, "tags": [op.tag]}
    if op.description:
        out["description"] = op.description
    if parameters := _parameters(path, op):
        out["parameters"] = parameters
    if op.body is not None:
        out["requestBody"] = {"required": True, "content": {JSON: {"schema": refs[(op.body, "validation")]}}}
    out["responses"] = responses
    if op.public:
        out["security"] = []
    return out


def _error_responses() -> dict:
    error = {JSON: {"schema": {"$ref": REF.format(model="Error")}}}
    responses = {f"E{status}": {"description": text, "content": error} for status, text in ERROR_TEXT.items()}
    challenge = {"type": "string", "const": 'Bearer realm="hotline"'}
    responses["E401"]["headers"] = {"WWW-Authenticate": {"schema": challenge}}
    return responses


def _open311_paths() -> dict:
    """Open311 GeoReport v2's path items (hotline/open311/openapi.py), absolute from the site root."""
    try:
        from hotline.open311.openapi import paths
    except ImportError:  # a tree without Open311
        return {}
    return paths()


@cache
def _document() -> dict:
    operations = _operations()
    refs, components = _schemas(operations)
    paths = {path: {method: _operation(path, method, op, refs) for method, op in methods.items()}
             for path, methods in operations.items()}
    paths.update(_open311_paths())
    document = {
        "openapi": "3.1.0",
        "info": {"title": "hotline 12315 API", "version": "1",
                 "description": "The JSON API of the 12315 hotline (DESIGN.md §3). Every error has the shape "
                                "`{\"error\": {\"code\", \"message\", \"fields\"}}`. Staff send "
                                "`Authorization: Bearer TOKEN` (`hotline tokens create NAME`), or use their "
                                "browser session (writes then need the page's CSRF token)."},
        "servers": [{"url": "/"}],
        "tags": TAGS,
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "schemas": components,
            "responses": _error_responses(),
            "parameters": {"IdempotencyKey": {
                "name": "Idempotency-Key", "in": "header", "required": False,
                "description": "A repeat with the same key within 24 h answers the first result (with "
                               "Idempotent-Replayed: true); the same key with another body 422; while the first "
                               "request runs, 409.",
                "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,120}$"}}},
            "headers": {"Replayed": {"description": "`true` on the answer to a repeated request",
                                     "schema": {"type": "string", "const": "true"}}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "a staff API token"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "the staff browser session; writes need the X-CSRFToken header"}},
        },
    }
    return document


def document() -> dict:
    """The document, a copy the caller may change."""
    return copy.deepcopy(_document())


@cache
def _document_json() -> str:
    return json.dumps(_document(), ensure_ascii=False)  # in the models' order, as the docs page shows it


@docs.get("/api/openapi.json")
def openapi_json():
    return Response(_document_json(), mimetype=JSON)


# ---- the docs page ---------------------------------------------------------------------------------------
# Swagger UI's files come with the flask-swagger-ui package (its dist/ folder, Apache-2.0, licence beside the
# files): installed with the project, served by this app, no CDN. Its own page starts Swagger UI from an
# inline script, which the CSP refuses, so the page here is ours and static/api-docs.js starts it.

def swagger_ui_folder() -> str:
    import flask_swagger_ui
    return str(Path(flask_swagger_ui.__file__).parent / "dist")


@docs.get("/api/docs")
def api_docs():
    return render_template("api/docs.html")


@docs.get("/static/swagger-ui/<path:filename>")
def swagger_ui_file(filename: str):
    return send_from_directory(swagger_ui_folder(), filename)
