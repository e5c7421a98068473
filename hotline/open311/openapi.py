"""The Open311 endpoints for the OpenAPI 3.1 document (hotline/api/openapi.py includes `paths()`).

Keys are absolute paths from the site root, with the Flask rules' own variable names ({fmt}, {number},
{service_code}): the document's `servers` entry (/api/v1) does not apply to them. Each response is given
for both formats: JSON, and XML with the element names of the specification (`xml` hints)."""
from hotline.open311.queries import DEFAULT_PAGE_SIZE, MAX_IDS, MAX_PAGE, MAX_PAGE_SIZE

PREFIX = "/open311/v2"
NULLABLE_STRING = {"type": ["string", "null"]}


def _array(item: dict, wrapper: str, item_name: str) -> dict:
    return {"type": "array", "items": {**item, "xml": {"name": item_name}}, "xml": {"name": wrapper, "wrapped": True}}


def _object(properties: dict, required: list[str], name: str | None = None) -> dict:
    schema = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    if name:
        schema["xml"] = {"name": name}
    return schema


ERROR = _object({"code": {"type": "integer", "description": "the HTTP status"},
                 "description": {"type": "string", "description": "for the user; names the argument at fault"}},
                ["code", "description"])
ERRORS = _array(ERROR, "errors", "error")

SERVICE = _object({
    "service_code": {"type": "string", "description": "`{kind}-{top category}` (complaint-G01) or `{kind}`",
                     "examples": ["complaint-G01", "report-S13", "consultation"]},
    "service_name": {"type": "string"}, "description": {"type": "string"},
    "metadata": {"type": "boolean", "description": "always true: every service has attributes"},
    "type": {"type": "string", "enum": ["realtime"]},
    "keywords": {"type": "string", "description": "comma separated"},
    "group": {"type": "string", "description": "the case kind's name"},
}, ["service_code", "service_name", "description", "metadata", "type", "keywords", "group"])

VALUE = _object({"key": {"type": "string"}, "name": {"type": "string"}}, ["key", "name"])
ATTRIBUTE = _object({
    "variable": {"type": "boolean"}, "code": {"type": "string"},
    "datatype": {"type": "string", "enum": ["string", "number", "datetime", "text", "singlevaluelist",
                                            "multivaluelist"]},
    "required": {"type": "boolean"}, "datatype_description": NULLABLE_STRING,
    "order": {"type": "integer", "minimum": 1}, "description": {"type": "string"},
    "values": _array(VALUE, "values", "value"),
}, ["variable", "code", "datatype", "required", "datatype_description", "order", "description"])
DEFINITION = _object({"service_code": {"type": "string"}, "attributes": _array(ATTRIBUTE, "attributes", "attribute")},
                     ["service_code", "attributes"], "service_definition")

REQUEST = _object({
    "service_request_id": {"type": "string", "description": "the case number"},
    "status": {"type": "string", "enum": ["open", "closed"]},
    "status_notes": {"type": "string", "description": "the detailed status in words (and a closed case's outcome)"},
    "service_name": {"type": "string"}, "service_code": {"type": "string"},
    "description": {**NULLABLE_STRING, "description": "the case's subject, personal data masked"},
    "agency_responsible": {"type": "string", "description": "the bureau, or the 12315 centre before routing"},
    "service_notice": NULLABLE_STRING,
    "requested_datetime": {"type": "string", "format": "date-time"},
    "updated_datetime": {"type": "string", "format": "date-time"},
    "expected_datetime": {"type": ["string", "null"], "format": "date-time",
                          "description": "the running deadline's last moment; null when closed or paused"},
    "address": {**NULLABLE_STRING, "description": "the business's address"},
}, ["service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address"])
CREATED = _object({"service_request_id": {"type": "string"}, "service_notice": {"type": "string"},
                   "account_id": NULLABLE_STRING}, ["service_request_id", "service_notice", "account_id"])
ENDPOINT = _object({
    "specification": {"type": "string"}, "url": {"type": "string"}, "changeset": {"type": "string"},
    "type": {"type": "string", "enum": ["production", "test"]},
    "formats": _array({"type": "string"}, "formats", "format"),
}, ["specification", "url", "changeset", "type", "formats"])
DISCOVERY = _object({"changeset": {"type": "string"}, "contact": {"type": "string"}, "key_service": {"type": "string"},
                     "endpoints": _array(ENDPOINT, "endpoints", "endpoint")},
                    ["changeset", "contact", "key_service", "endpoints"], "discovery")

FORMAT = {"name": "fmt", "in": "path", "required": True, "description": "the response format",
          "schema": {"type": "string", "enum": ["xml", "json"]}}
JURISDICTION = {"name": "jurisdiction_id", "in": "query", "required": False,
                "description": "ignored: one jurisdiction", "schema": {"type": "string"}}
API_KEY_QUERY = {"name": "api_key", "in": "query", "required": False, "schema": {"type": "string"},
                 "description": "a staff API token: adds the reports its user may see (or send Authorization: Bearer)"}


def _content(schema: dict) -> dict:
    return {"application/json": {"schema": schema}, "text/xml": {"schema": schema}}


def _responses(ok: dict, *errors: int) -> dict:
    meanings = {400: "invalid arguments", 403: "missing or invalid api_key, or a role that may not",
                404: "no such resource or format", 413: "body too large", 429: "too many requests",
                503: "the database is unavailable"}
    responses = {"200": {"description": "OK", "content": _content(ok)}}
    for status in sorted({*errors, 400, 429, 503}):
        responses[str(status)] = {"description": meanings[status], "content": _content(ERRORS)}
    return responses


def _get(summary: str, ok: dict, parameters: list, *errors: int) -> dict:
    return {"summary": summary, "tags": ["Open311"], "security": [], "parameters": [FORMAT, JURISDICTION, *parameters],
            "responses": _responses(ok, 404, *errors)}


def _query(name: str, description: str, schema: dict | None = None) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


FORM_FIELDS = {
    "api_key": {"type": "string", "description": "a staff API token (operator, station, supervisor, admin)"},
    "service_code": {"type": "string"}, "jurisdiction_id": {"type": "string"},
    "address_string": {"type": "string", "description": "the business's address: where the case is routed"},
    "lat": {"type": "string"}, "long": {"type": "string"}, "address_id": {"type": "string"},
    "email": {"type": "string"}, "device_id": {"type": "string"}, "account_id": {"type": "string"},
    "first_name": {"type": "string"}, "last_name": {"type": "string"}, "phone": {"type": "string"},
    "description": {"type": "string", "maxLength": 4000}, "media_url": {"type": "string"},
}


def paths() -> dict:
    """OpenAPI 3.1 path items for every Open311 route."""
    requests_list = _get("GET Service Requests: cases without personal data (reports only to staff)",
                         _array(REQUEST, "service_requests", "request"), [
        _query("service_request_id", f"case numbers, comma separated (at most {MAX_IDS}); overrides the rest"),
        _query("service_code", "service codes, comma separated"),
        _query("start_date", "w3 date-time; received from (the range spans at most 90 days)"),
        _query("end_date", "w3 date-time; received until"),
        _query("status", "open, closed, or both comma separated"),
        _query("page", "from 1", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}),
        _query("page_size", f"default {DEFAULT_PAGE_SIZE}",
               {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}),
        API_KEY_QUERY], 403)
    create = {
        "summary": "POST Service Request: register a case (form-encoded, api_key = a staff API token)",
        "tags": ["Open311"], "security": [], "parameters": [FORMAT],
        "requestBody": {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": {
                "type": "object", "required": ["api_key", "service_code"], "properties": FORM_FIELDS,
                "additionalProperties": {"type": "string"},
                "description": "plus attribute[code]=value for the service definition's attributes"}}}},
        "responses": _responses(_array(CREATED, "service_requests", "request"), 403, 404, 413),
    }
    return {
        f"{PREFIX}/discovery.{{fmt}}": {"get": _get("Service Discovery", DISCOVERY, [])},
        f"{PREFIX}/services.{{fmt}}": {"get": _get("GET Service List: case kind × top category",
                                                   _array(SERVICE, "services", "service"), [])},
        f"{PREFIX}/services/{{service_code}}.{{fmt}}": {"get": _get(
            "GET Service Definition: the attributes a POST fills in", DEFINITION,
            [{"name": "service_code", "in": "path", "required": True, "schema": {"type": "string"}}])},
        f"{PREFIX}/requests.{{fmt}}": {"get": requests_list, "post": create},
        f"{PREFIX}/requests/{{number}}.{{fmt}}": {"get": _get(
            "GET Service Request: one case by its number", _array(REQUEST, "service_requests", "request"),
            [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "the case number (service_request_id)"}, API_KEY_QUERY], 403)},
    }
