"""The OpenAPI 3 document at /api/openapi.json, generated from the request schemas."""
from flask import Blueprint, jsonify

from hotline.cases.schemas import CaseIn
from hotline.cases.workflow import ACTIONS

docs = Blueprint("openapi", __name__)

ERROR = {"type": "object", "properties": {"error": {"type": "object", "properties": {
    "code": {"type": "string"}, "message": {"type": "string"},
    "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}}}


def _errors(*codes: int) -> dict:
    return {str(c): {"description": "error", "content": {"application/json": {"schema": ERROR}}} for c in codes}


def document() -> dict:
    schema = CaseIn.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.pop("$defs", {})
    components["CaseIn"] = schema
    components["Error"] = ERROR
    components["ActionIn"] = {
        "type": "object", "required": ["action"], "additionalProperties": False,
        "properties": {
            "action": {"type": "string", "enum": list(ACTIONS)},
            "reason": {"type": "string", "description": "the reason, or the statutory ground's code; delegate: the "
                                                         "mediation body's name; check_identity: done, refused or "
                                                         "not_needed"},
            "note": {"type": "string", "description": "refer_violation: the violation found (required)"},
            "bureau": {"type": "string", "description": "for assign"},
            "recovered_amount": {"type": "string", "description": "yuan, for settle"},
            "assignee": {"type": "string", "description": "user name, for reassign"},
            "receiver": {"type": "string", "maxLength": 128,
                         "description": "for transfer_out: the other city's 12315 or the national platform"},
            "confirm": {"type": "boolean", "description": "settle: confirms a recovered amount far above the amount "
                                                          "in dispute (otherwise 422)"},
            "version": {"type": "integer", "description": "the version read; 409 if the case changed since"}}}
    case_number = {"name": "number", "in": "path", "required": True, "schema": {"type": "string"}}
    # A repeat with the same key within 24 h answers the first result (header Idempotent-Replayed: true);
    # the same key with another body 422; while the first request runs, 409 (issue #12).
    idempotency_key = {"name": "Idempotency-Key", "in": "header", "required": False,
                       "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,120}$"}}
    obj = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    list_params = [{"name": n, "in": "query", "required": False, "schema": {"type": "string"}}
                   for n in ("status", "kind", "bureau", "channel", "overdue", "q")]
    list_params += [
        {"name": "page", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
        {"name": "per_page", "in": "query", "required": False,
         "schema": {"type": "integer", "minimum": 1, "maximum": 200}}]
    return {
        "openapi": "3.0.3",
        "info": {"title": "hotline 12315 API", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "components": {"schemas": components,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": {
            "/cases": {
                "post": {"summary": "Register a case", "parameters": [idempotency_key],
                         "requestBody": {"required": True, "content": {
                             "application/json": {"schema": {"$ref": "#/components/schemas/CaseIn"}}}},
                         "responses": {"201": obj, **_errors(400, 401, 403, 409, 413, 415, 422, 429, 503)}},
                "get": {"summary": "List cases", "parameters": list_params,
                        "responses": {"200": obj, **_errors(401, 422)}}},
            "/cases/{number}": {"get": {"summary": "One case", "parameters": [case_number],
                                        "responses": {"200": obj, **_errors(401, 404)}}},
            "/cases/{number}/actions": {"post": {
                "summary": "Take a workflow action (DESIGN.md §2); 403 if the role may not take it, 409 if the "
                           "status does not allow it",
                "parameters": [case_number, idempotency_key], "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ActionIn"}}}},
                "responses": {"200": obj, **_errors(400, 401, 403, 404, 409, 415, 422)}}},
            "/callers/{phone}": {"get": {"summary": "A caller's earlier cases", "parameters": [
                {"name": "phone", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": obj, **_errors(401, 422)}}},
            "/answers": {"get": {"summary": "Search the answer bank", "parameters": [
                {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}}],
                "responses": {"200": obj, **_errors(401)}}},
            **_alert_paths(obj),
            **_stats_paths(obj),
        },
    }


def _alert_paths(obj: dict) -> dict:
    """消费警示 and subscriptions (hotline/alerts/api.py)."""
    def body(schema: dict) -> dict:
        return {"required": True, "content": {"application/json": {"schema": schema}}}
    text = {"type": "string"}
    alert_in = {"type": "object", "required": ["title", "body", "sms_text"], "properties": {
        "title": {"type": "string", "maxLength": 128}, "body": text,
        "sms_text": {"type": "string", "description": "at most 70 characters with the signature 【12315】 and the "
                                                      "opt-out line 回复TD退订, both added automatically"},
        "district": {"type": "string", "nullable": True, "description": "a district's division code; none: the city"},
        "categories": {"type": "array", "items": text}}}
    phone = {"type": "string", "description": "a mainland mobile number"}
    paging = [{"name": n, "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1,
                                                                       "maximum": m}}
              for n, m in (("page", 100000), ("per_page", 100))]
    return {
        "/alerts": {
            "get": {"summary": "Published consumer alerts, newest first (public)", "security": [],
                    "parameters": paging, "responses": {"200": obj, **_errors(422)}},
            "post": {"summary": "Write a consumer alert (a draft)", "requestBody": body(alert_in),
                     "responses": {"201": obj, **_errors(400, 401, 403, 413, 422)}}},
        "/alerts/{id}/publish": {"post": {
            "summary": "Publish a draft alert and send it to the subscribers; 409 if not a draft",
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {"200": obj, **_errors(401, 403, 404, 409)}}},
        "/public/subscriptions": {"post": {
            "summary": "Ask for alerts by SMS: a code is sent (the same answer for every number)", "security": [],
            "requestBody": body({"type": "object", "required": ["phone"], "properties": {
                "phone": phone, "district": {"type": "string", "nullable": True}}}),
            "responses": {"202": obj, **_errors(400, 422, 429)}}},
        "/public/subscriptions/confirm": {"post": {
            "summary": "Confirm a subscription with the code sent by SMS", "security": [],
            "requestBody": body({"type": "object", "required": ["phone", "code"], "properties": {
                "phone": phone, "code": {"type": "string", "pattern": "^[0-9]{6}$"}}}),
            "responses": {"200": obj, **_errors(400, 422, 429)}}},
    }


def _stats_paths(obj: dict) -> dict:
    """Queue and range statistics (hotline/stats/api.py)."""
    from hotline.stats.api import openapi_paths
    return openapi_paths(obj, _errors)


@docs.get("/api/openapi.json")
def openapi_json():
    return jsonify(document())
