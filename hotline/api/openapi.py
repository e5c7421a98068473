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
                "post": {"summary": "Register a case", "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/CaseIn"}}}},
                    "responses": {"201": obj, **_errors(400, 401, 403, 413, 422, 503)}},
                "get": {"summary": "List cases", "parameters": list_params,
                        "responses": {"200": obj, **_errors(401, 422)}}},
            "/cases/{number}": {"get": {"summary": "One case", "parameters": [case_number],
                                        "responses": {"200": obj, **_errors(401, 404)}}},
            "/cases/{number}/actions": {"post": {
                "summary": "Take a workflow action (DESIGN.md §2); 409 if the status does not allow it",
                "parameters": [case_number], "requestBody": {"required": True, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ActionIn"}}}},
                "responses": {"200": obj, **_errors(400, 401, 403, 404, 409, 422)}}},
            "/callers/{phone}": {"get": {"summary": "A caller's earlier cases", "parameters": [
                {"name": "phone", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": obj, **_errors(401, 422)}}},
            "/answers": {"get": {"summary": "Search the answer bank", "parameters": [
                {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}}],
                "responses": {"200": obj, **_errors(401)}}},
        },
    }


@docs.get("/api/openapi.json")
def openapi_json():
    return jsonify(document())
