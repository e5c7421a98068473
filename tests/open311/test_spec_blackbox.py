"""Open311 GeoReport v2 as a civic-issue client sees it: a black-box test written from the specification
alone (issue #13, must-show 1).

Sources, and nothing else: the GeoReport v2 specification (wiki.open311.org/GeoReport_v2), its Service
Discovery page (wiki.open311.org/Service_Discovery), its JSON mapping (the Spark convention,
wiki.open311.org/JSON_and_XML_Conversion), and DESIGN.md §3's line on where the API lives: `/open311/v2/`,
each resource as `.xml` and `.json`, `api_key` a staff API token. The Open311 code was not read while
this file was written; where the two disagree, the specification decides.

XML is parsed strictly: well-formed, UTF-8 with the XML declaration the spec requires ("the root element
must be preceded with the XML declaration including the encoding="UTF-8" attribute"), no DTD and no
entity declarations. Every element is then checked against an allow-list per document, taken from the
spec's response tables: an element the spec does not define at that place, an XML attribute or a
namespace fails ("adhere to the specification strictly and do not include foreign tags or namespaces").
Each test collects every discrepancy before failing, so one run lists them all.
"""
import json
import re
import xml.etree.ElementTree as ElementTree
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit
from xml.parsers import expat

import pytest

BASE = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["xml", "json"]

# What a consumer submits through a client app. The names are distinctive so that a leak into the public
# listing is found by a plain search of the response body.
FAMILY_NAME, GIVEN_NAME = "欧阳", "明珠"
PHONE = "13912345678"
EMAIL = "ouyang.mingzhu@example.com"
ADDRESS = "辽宁省鞍山市铁西区兴盛街道人民路88号"
DESCRIPTION = "买的电水壶第二天就漏水，商家拒绝退货。"


# --- the documents, from the specification's response tables --------------------------------------------

TEXT = None  # a field holding text only


class ListOf:
    """A container of one repeated element: `<services><service/>...</services>`; a JSON array (Spark)."""

    def __init__(self, item: str, shape):
        self.item, self.shape = item, shape


def record(*names, **nested) -> dict:
    """An element holding named fields, each at most once; a JSON object."""
    return {**dict.fromkeys(names, TEXT), **nested}


# Service Discovery, "Fields for All Versions" ("All fields are required").
DISCOVERY = ("discovery", record(
    "changeset", "contact", "key_service",
    endpoints=ListOf("endpoint", record("specification", "url", "changeset", "type",
                                        formats=ListOf("format", TEXT)))))
# GET Service List.
SERVICES = ("services", ListOf("service", record(
    "service_code", "service_name", "description", "metadata", "type", "keywords", "group")))
# GET Service Definition.
SERVICE_DEFINITION = ("service_definition", record(
    "service_code",
    attributes=ListOf("attribute", record(
        "variable", "code", "datatype", "required", "datatype_description", "order", "description",
        values=ListOf("value", record("key", "name"))))))
# POST Service Request: the response.
CREATED = ("service_requests", ListOf("request", record(
    "service_request_id", "token", "service_notice", "account_id")))
# GET Service Requests and GET Service Request: the same response table.
REQUESTS = ("service_requests", ListOf("request", record(
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url")))
# Errors.
ERRORS = ("errors", ListOf("error", record("code", "description")))

DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
# "common subset of ISO 8601 as per the w3 note. Timezone information (either Z meaning UTC, or an HH:MM
# offset from UTC) must be included."
W3_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})")


# --- strict parsing and checking ------------------------------------------------------------------------

def parse_strict(body: bytes) -> ElementTree.Element:
    """Well-formed XML with the UTF-8 declaration; a DTD or an entity declaration is refused outright, so
    nothing is ever expanded or fetched."""
    declaration = {}

    def refuse(*_):
        raise AssertionError("an Open311 response carries a DTD or an entity declaration")

    parser = expat.ParserCreate()
    parser.XmlDeclHandler = lambda version, encoding, standalone: declaration.update(encoding=encoding)
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        parser.Parse(body, True)
    except expat.ExpatError as error:
        raise AssertionError(f"not well-formed XML: {error}\n{body[:500]!r}") from None
    assert (declaration.get("encoding") or "").lower() == "utf-8", \
        f"no XML declaration with encoding UTF-8 before the root element: {body[:80]!r}"
    try:
        import defusedxml.ElementTree as safe
        return safe.fromstring(body, forbid_dtd=True)
    except ImportError:
        return ElementTree.fromstring(body)


def check_xml(element, shape, path: str, problems: list) -> None:
    """Every element where the spec puts it, nothing else."""
    if element.tag.startswith("{"):
        problems.append(f"{path}: a namespaced element {element.tag}")
    if element.attrib:
        problems.append(f"{path}: XML attributes {sorted(element.attrib)}; the spec defines none")
    if shape is TEXT:
        if len(element):
            problems.append(f"{path}: should hold text only, holds <{element[0].tag}>")
        return
    if (element.text or "").strip() or any((child.tail or "").strip() for child in element):
        problems.append(f"{path}: text inside a container element")
    if isinstance(shape, ListOf):
        for child in element:
            if child.tag != shape.item:
                problems.append(f"{path}: <{child.tag}> where the spec allows only <{shape.item}>")
            else:
                check_xml(child, shape.shape, f"{path}/{child.tag}", problems)
        return
    seen = Counter(child.tag for child in element)
    for tag, count in seen.items():
        if tag not in shape:
            problems.append(f"{path}: <{tag}> is not defined by the spec here (it allows {sorted(shape)})")
        elif count > 1:
            problems.append(f"{path}: <{tag}> appears {count} times")
    for child in element:
        if child.tag in shape and seen[child.tag] == 1:
            check_xml(child, shape[child.tag], f"{path}/{child.tag}", problems)


def xml_value(element, shape):
    """The XML as plain values, the way the Spark convention maps it to JSON."""
    if shape is TEXT:
        return element.text or ""
    if isinstance(shape, ListOf):
        return [xml_value(child, shape.shape) for child in element if child.tag == shape.item]
    return {child.tag: xml_value(child, shape[child.tag]) for child in element if child.tag in shape}


def check_json(value, shape, path: str, problems: list) -> None:
    if shape is TEXT:
        if isinstance(value, (dict, list)):
            problems.append(f"{path}: should be a scalar, is {type(value).__name__}")
        return
    if isinstance(shape, ListOf):
        if value is None:
            return
        if not isinstance(value, list):
            problems.append(f"{path}: should be an array (Spark convention), is {type(value).__name__}")
            return
        for index, item in enumerate(value):
            check_json(item, shape.shape, f"{path}[{index}]", problems)
        return
    if not isinstance(value, dict):
        problems.append(f"{path}: should be an object, is {type(value).__name__}")
        return
    for key, item in value.items():
        if key not in shape:
            problems.append(f"{path}: key {key!r} is not defined by the spec here (it allows {sorted(shape)})")
        else:
            check_json(item, shape[key], f"{path}.{key}", problems)


def comparable(value, shape):
    """XML text and JSON scalars on one footing; an empty field and a missing one are the same."""
    if shape is TEXT:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            return repr(value)
        text = str(value)
        try:
            return repr(float(text)) if re.fullmatch(r"-?\d+\.\d+", text) else text
        except ValueError:
            return text
    if isinstance(shape, ListOf):
        return [comparable(item, shape.shape) for item in value or []]
    result = {}
    for key, item in (value or {}).items():
        if key in shape:
            item = comparable(item, shape[key])
            if item not in ("", []):
                result[key] = item
    return result


def xml_document(response, document):
    """The response as an XML document of the given kind, strictly checked; its plain values."""
    root_name, shape = document
    assert response.mimetype == "text/xml", f"XML must be served as text/xml, got {response.content_type}"
    charset = response.mimetype_params.get("charset")
    assert charset is None or charset.lower() == "utf-8", response.content_type
    root = parse_strict(response.get_data())
    assert root.tag == root_name, f"root element <{root.tag}>, the spec's is <{root_name}>"
    problems = []
    check_xml(root, shape, root_name, problems)
    assert not problems, "XML not as the specification defines it:\n" + "\n".join(problems)
    return xml_value(root, shape)


def json_document(response, document):
    root_name, shape = document
    assert response.mimetype == "application/json", response.content_type
    value = json.loads(response.get_data(as_text=True))
    problems = []
    check_json(value, shape, root_name, problems)
    assert not problems, "JSON not as the specification defines it:\n" + "\n".join(problems)
    return value


def both(client, path, document, expect=200, **query):
    """GET `path` as .xml and .json, each checked; they must say the same thing. Returns the JSON."""
    xml_response = client.get(f"{BASE}/{path}.xml", query_string=query)
    json_response = client.get(f"{BASE}/{path}.json", query_string=query)
    assert xml_response.status_code == expect, (path, xml_response.status_code, xml_response.get_data(as_text=True))
    assert json_response.status_code == expect, (path, json_response.status_code, json_response.get_data(as_text=True))
    from_xml = xml_document(xml_response, document)
    from_json = json_document(json_response, document)
    shape = document[1]
    assert comparable(from_xml, shape) == comparable(from_json, shape), \
        f"{path}: the XML and the JSON differ (JSON is the Spark mapping of the XML)"
    return from_json


def errors_of(response, fmt: str, status: int) -> list:
    """The spec's error format, `<errors><error><code/><description/></error></errors>`, with its status."""
    assert response.status_code == status, (status, response.status_code, response.get_data(as_text=True))
    errors = xml_document(response, ERRORS) if fmt == "xml" else json_document(response, ERRORS)
    assert errors, "an error response lists at least one error"
    for error in errors:
        assert str(error.get("code") or "").strip(), f"an error without a code: {error}"
        assert str(error.get("description") or "").strip(), f"an error without a description: {error}"
    return errors


def w3_datetime(text, field: str) -> datetime:
    assert isinstance(text, str) and W3_DATETIME.fullmatch(text), \
        f"{field} {text!r} is not a W3C/ISO 8601 date-time with a timezone"
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def is_true_false(value) -> bool:
    """The spec's true/false fields are JSON booleans in its examples (`"metadata":true`)."""
    return isinstance(value, bool)


# --- a client's steps ------------------------------------------------------------------------------------

@pytest.fixture
def api_key(make_user, token_for):
    """A staff API token (DESIGN.md §3), sent as the spec's `api_key` form field."""
    header = token_for(make_user("operator"))["Authorization"]
    return header.removeprefix("Bearer ")


def listed_services(client) -> list:
    services = both(client, "services", SERVICES)
    assert services, "the service list is empty"
    problems = []
    codes = [str(service.get("service_code") or "") for service in services]
    if "" in codes:
        problems.append("a service without a service_code")
    if len(set(codes)) != len(codes):
        problems.append(f"service codes repeat: {[c for c, n in Counter(codes).items() if n > 1]}")
    for service in services:
        code = service.get("service_code")
        if not str(service.get("service_name") or "").strip():
            problems.append(f"{code}: no service_name")
        if not is_true_false(service.get("metadata")):
            problems.append(f"{code}: metadata {service.get('metadata')!r}, the spec's values are true and false")
        if service.get("type") not in ("realtime", "batch", "blackbox"):
            problems.append(f"{code}: type {service.get('type')!r}, the spec's are realtime, batch, blackbox")
    assert not problems, "\n".join(problems)
    return services


def chosen_service(services) -> dict:
    """A complaint (DESIGN.md: a service code is a kind × category) whose form has fields, else any."""
    with_form = [s for s in services if s.get("metadata") is True] or services
    complaints = [s for s in with_form if "complaint" in f"{s['service_code']} {s.get('group') or ''}".lower()
                  or "投诉" in f"{s['service_name']} {s.get('group') or ''}"]
    return (complaints or with_form)[0]


def service_definition(client, code) -> dict:
    definition = both(client, f"services/{code}", SERVICE_DEFINITION)
    assert str(definition.get("service_code")) == str(code), \
        "the definition returns the service_code it was asked for"
    attributes = definition.get("attributes") or []
    problems = []
    attribute_codes = [str(a.get("code") or "") for a in attributes]
    if "" in attribute_codes or len(set(attribute_codes)) != len(attribute_codes):
        problems.append(f"attribute codes must be unique and present: {attribute_codes}")
    orders = [a.get("order") for a in attributes]
    if not all(isinstance(o, int) and not isinstance(o, bool) and o > 0 for o in orders) \
            or len(set(orders)) != len(orders):
        problems.append(f"order must be a positive integer not used by another attribute: {orders}")
    for attribute in attributes:
        code = attribute.get("code")
        if not is_true_false(attribute.get("variable")) or not is_true_false(attribute.get("required")):
            problems.append(f"{code}: variable and required are true or false: {attribute}")
        if attribute.get("datatype") not in DATATYPES:
            problems.append(f"{code}: datatype {attribute.get('datatype')!r} is none of {sorted(DATATYPES)}")
        if not str(attribute.get("description") or "").strip():
            problems.append(f"{code}: no description for the user")
        values = attribute.get("values") or []
        if attribute.get("datatype") in ("singlevaluelist", "multivaluelist"):
            keys = [str(v.get("key") or "") for v in values]
            if not keys or "" in keys or len(set(keys)) != len(keys):
                problems.append(f"{code}: a list needs values with unique keys: {keys}")
            if any(not str(v.get("name") or "").strip() for v in values):
                problems.append(f"{code}: a value without a name")
        elif values:
            problems.append(f"{code}: values are for singlevaluelist or multivaluelist only")
    assert not problems, "\n".join(problems)
    return definition


# What a person filling the form would enter, chosen from the attribute's own code and description.
HINTS = [
    (("phone", "mobile", "tel", "电话", "手机"), "13900001111"),
    (("business_name", "shop", "company", "merchant", "商家", "经营者", "企业", "商户"), "测试商店"),
    (("address", "地址"), ADDRESS),
    (("amount", "money", "price", "金额", "价款"), "100"),
    (("email", "mail", "邮箱"), "someone@example.com"),
    (("demand", "诉求", "要求"), "退货"),
    (("subject", "title", "主题", "标题"), "质量问题"),
    (("name", "姓名", "名称"), "测试"),
]


def answer(attribute: dict, now: datetime):
    datatype = attribute["datatype"]
    if datatype == "singlevaluelist":
        return str(attribute["values"][0]["key"])
    if datatype == "multivaluelist":
        return [str(attribute["values"][0]["key"])]
    if datatype == "datetime":
        # "must be able to transform into a valid ISO 8601 date": a few days ago, as things happen.
        return (now - timedelta(days=3)).replace(microsecond=0).isoformat()
    if datatype == "number":
        return "100"
    # The code says what a field is; its description may mention other things ("do not enter a phone").
    for hint in (attribute["code"].lower(), str(attribute.get("description") or "").lower()):
        if "date" in hint or "日期" in hint:
            return (now - timedelta(days=3)).date().isoformat()
        for words, value in HINTS:
            if any(word in hint for word in words):
                return value
    return "商品有质量问题。" if datatype == "text" else "测试"


def request_form(api_key: str, service: dict, definition: dict, *, leave_out=()) -> dict:
    """POST Service Request's arguments, form-encoded as the spec's example: api_key, service_code, a
    location (address_string), the submitter, the description and `attribute[code]=value` for each
    required attribute (`attribute[code][]` once per value of a multivaluelist)."""
    now = datetime.now(timezone(timedelta(hours=8)))
    form = {"api_key": api_key, "service_code": service["service_code"], "address_string": ADDRESS,
            "first_name": GIVEN_NAME, "last_name": FAMILY_NAME, "phone": PHONE, "email": EMAIL,
            "description": DESCRIPTION}
    for attribute in definition.get("attributes") or []:
        if not attribute.get("variable") or not attribute.get("required") or attribute["code"] in leave_out:
            continue
        value = answer(attribute, now)
        if isinstance(value, list):
            form[f"attribute[{attribute['code']}][]"] = value
        else:
            form[f"attribute[{attribute['code']}]"] = value
    return {key: value for key, value in form.items() if key not in leave_out}


def prepared(client, api_key):
    services = listed_services(client)
    service = chosen_service(services)
    definition = service_definition(client, service["service_code"])
    return service, definition, request_form(api_key, service, definition)


def create(client, form: dict, fmt: str = "xml") -> str:
    """POST the request; a realtime service answers with its service_request_id and no token."""
    response = client.post(f"{BASE}/requests.{fmt}", data=form)
    assert response.status_code in (200, 201), (response.status_code, response.get_data(as_text=True))
    created = xml_document(response, CREATED) if fmt == "xml" else json_document(response, CREATED)
    assert len(created) == 1, f"one request posted, {len(created)} in the response"
    request_id = str(created[0].get("service_request_id") or "")
    assert request_id, f"a realtime service returns the service_request_id: {created[0]}"
    assert not created[0].get("token"), "token 'should not be returned if service_request_id is returned'"
    return request_id


def listed_ids(client, **query) -> list:
    return [str(r["service_request_id"]) for r in both(client, "requests", REQUESTS, **query)]


def check_request(request: dict, request_id: str, service: dict, posted_at: datetime) -> None:
    """The fields of GET Service Request(s) for a request just created."""
    problems = []
    if str(request.get("service_request_id")) != request_id:
        problems.append(f"service_request_id {request.get('service_request_id')!r}, posted {request_id!r}")
    if request.get("status") != "open":
        problems.append(f"status {request.get('status')!r}: a new request is open (the options: open, closed)")
    if str(request.get("service_code")) != str(service["service_code"]):
        problems.append(f"service_code {request.get('service_code')!r}, posted {service['service_code']!r}")
    if request.get("service_name") != service["service_name"]:
        problems.append(f"service_name {request.get('service_name')!r}, listed as {service['service_name']!r}")
    assert not problems, "\n".join(problems)
    requested = w3_datetime(request.get("requested_datetime"), "requested_datetime")
    assert abs(requested - posted_at) < timedelta(minutes=10), (requested, posted_at)
    updated = w3_datetime(request.get("updated_datetime"), "updated_datetime")
    assert updated >= requested - timedelta(seconds=1)
    if request.get("expected_datetime"):
        assert w3_datetime(request["expected_datetime"], "expected_datetime") > requested
    for field in ("lat", "long"):
        if request.get(field) not in (None, ""):
            float(request[field])


# --- the tests -------------------------------------------------------------------------------------------

def test_discovery_names_this_endpoint_in_xml_and_json(client):
    discovery = both(client, "discovery", DISCOVERY)
    for field in ("changeset", "contact", "key_service"):
        assert str(discovery.get(field) or "").strip(), f"discovery.{field} is required"
    endpoints = [e for e in discovery.get("endpoints") or [] if e.get("specification") == SPECIFICATION]
    assert endpoints, f"no endpoint with specification {SPECIFICATION}"
    ours = [e for e in endpoints if urlsplit(e.get("url") or "").path.rstrip("/") == BASE]
    assert ours, f"no GeoReport v2 endpoint whose url is {BASE}: {[e.get('url') for e in endpoints]}"
    for endpoint in ours:
        assert endpoint.get("type") in ("production", "test")
        assert str(endpoint.get("changeset") or "").strip()
        # JSON is offered "if denoted by Service Discovery": both formats, as MIME types.
        assert {"text/xml", "application/json"} <= set(endpoint.get("formats") or [])


def test_services_in_xml_and_json_list_the_same_codes(client):
    services = listed_services(client)
    # An empty optional argument is the same as none ("Optional Arguments").
    assert both(client, "services", SERVICES, jurisdiction_id="") == services


def test_create_a_request_and_read_it_back_in_xml_and_json(client, api_key):
    service, definition, form = prepared(client, api_key)
    assert service["type"] == "realtime", "a case gets its number at once"
    posted_at = datetime.now(UTC)
    request_id = create(client, form, "xml")

    # GET Service Request: one <request> inside <service_requests>, the same in XML and JSON.
    single = both(client, f"requests/{request_id}", REQUESTS)
    assert len(single) == 1
    check_request(single[0], request_id, service, posted_at)

    # GET Service Requests filtered by service_request_id ("This overrides all other arguments").
    listed = both(client, "requests", REQUESTS, service_request_id=request_id)
    assert [str(r["service_request_id"]) for r in listed] == [request_id]
    check_request(listed[0], request_id, service, posted_at)
    assert comparable(listed, REQUESTS[1]) == comparable(single, REQUESTS[1])

    # The standard filters.
    assert request_id in listed_ids(client)
    assert request_id in listed_ids(client, status="open")
    assert request_id in listed_ids(client, status="open,closed")
    assert request_id not in listed_ids(client, status="closed")
    assert request_id in listed_ids(client, service_code=service["service_code"])
    # "can be declared multiple times, comma delimited"
    other = next(s["service_code"] for s in listed_services(client) if s["service_code"] != service["service_code"])
    assert request_id in listed_ids(client, service_code=f"{other},{service['service_code']}")
    assert request_id not in listed_ids(client, service_code=other)
    start = (posted_at - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (posted_at + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert request_id in listed_ids(client, start_date=start, end_date=end)
    earlier = (posted_at - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert request_id not in listed_ids(client, start_date=earlier, end_date=start)


def test_create_in_json_and_list_several_ids(client, api_key):
    _, _, form = prepared(client, api_key)
    first = create(client, form, "json")
    second = create(client, form, "json")
    assert first != second
    # "multiple service_request_id can be declared; comma delimited"
    assert sorted(listed_ids(client, service_request_id=f"{first},{second}")) == sorted([first, second])


def test_issue_13_fields_and_no_personal_data_in_public_reads(client, api_key):
    """Issue #13's mapping onto the spec's fields: status_notes the detailed status, agency_responsible
    the bureau, expected_datetime the current deadline, address the business address; and personal
    data never in what anyone can read without a key."""
    from hotline.outbox.relay import run_pending  # the workers' turn: the case gets routed

    _, _, form = prepared(client, api_key)
    request_id = create(client, form, "xml")
    run_pending()
    request = both(client, f"requests/{request_id}", REQUESTS)[0]
    problems = []
    if not str(request.get("status_notes") or "").strip():
        problems.append("status_notes should carry the detailed status")
    if "铁西" not in str(request.get("agency_responsible") or ""):
        problems.append(f"agency_responsible {request.get('agency_responsible')!r}: the bureau of {ADDRESS}")
    if not request.get("expected_datetime"):
        problems.append("expected_datetime should be the current deadline")
    if request.get("address") != ADDRESS:
        problems.append(f"address {request.get('address')!r}, posted address_string {ADDRESS!r}")
    assert not problems, "\n".join(problems)

    for path in (f"requests/{request_id}", "requests"):
        for fmt in FORMATS:
            body = client.get(f"{BASE}/{path}.{fmt}").get_data(as_text=True)
            for personal in (PHONE, EMAIL, FAMILY_NAME, GIVEN_NAME):
                assert personal not in body, f"{personal!r} appears in the public {path}.{fmt}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_missing_or_wrong_api_key_is_403_and_creates_nothing(client, api_key, fmt):
    """"403 for errors because of wrong or missing api_key"."""
    _, _, form = prepared(client, api_key)
    before = listed_ids(client)
    without = {key: value for key, value in form.items() if key != "api_key"}
    for data in (without, {**form, "api_key": ""}, {**form, "api_key": "hl_not-a-token"}):
        errors_of(client.post(f"{BASE}/requests.{fmt}", data=data), fmt, 403)
    assert listed_ids(client) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_service_code_is_404_and_a_missing_one_400(client, api_key, fmt):
    """POST Service Request: "404 - service_code ... was not found", "400 - service_code ... was not
    provided"."""
    _, _, form = prepared(client, api_key)
    before = listed_ids(client)
    errors_of(client.post(f"{BASE}/requests.{fmt}", data={**form, "service_code": "NO-SUCH-SERVICE"}), fmt, 404)
    missing = {key: value for key, value in form.items() if key != "service_code"}
    errors_of(client.post(f"{BASE}/requests.{fmt}", data=missing), fmt, 400)
    assert listed_ids(client) == before


def test_a_closed_case_is_closed_with_its_closing_time(client, api_key):
    """status "closed: it has been resolved"; updated_datetime: "For requests with status=closed, this will
    be the date the request was closed". The case is closed through the staff JSON API (DESIGN.md §3: an
    operator may `withdraw` any open case), found there as the only case of this test."""
    service, _, form = prepared(client, api_key)
    request_id = create(client, form, "xml")
    staff = {"Authorization": f"Bearer {api_key}"}
    cases = client.get("/api/v1/cases", headers=staff).get_json()["items"]
    assert len(cases) == 1
    closing = datetime.now(UTC)
    response = client.post(f"/api/v1/cases/{cases[0]['number']}/actions", headers=staff,
                           json={"action": "withdraw", "reason": "消费者撤回", "note": "来电撤回"})
    assert response.status_code == 200, response.get_data(as_text=True)

    request = both(client, f"requests/{request_id}", REQUESTS)[0]
    assert request["status"] == "closed"
    closed_at = w3_datetime(request.get("updated_datetime"), "updated_datetime")
    assert abs(closed_at - closing) < timedelta(minutes=10)
    assert request_id in listed_ids(client, status="closed")
    assert request_id not in listed_ids(client, status="open")
    assert request_id in listed_ids(client, status="closed,open", service_code=service["service_code"])


def test_the_description_reads_back_as_posted(client, api_key):
    """GET Service Request(s): description is "A full description of the request or report submitted",
    the field POST Service Request calls "A full description of the request or report being submitted".
    A documented deviation (docs/decisions.md, Open311): a 12315 complaint is not a public report, so the
    full text is read with a staff `api_key` (the same key POST takes); without one, `description` is the
    case's one-line subject with personal data masked, and never the posted text's details."""
    _, _, form = prepared(client, api_key)
    request_id = create(client, form, "xml")
    key = form["api_key"]
    # Fields with no place in a case (email, coordinates, media_url) are kept after the text
    assert both(client, f"requests/{request_id}", REQUESTS, api_key=key)[0].get("description").startswith(DESCRIPTION)
    assert both(client, "requests", REQUESTS, service_request_id=request_id,
                api_key=key)[0].get("description").startswith(DESCRIPTION)
    public = both(client, f"requests/{request_id}", REQUESTS)[0].get("description")
    assert public != DESCRIPTION and "漏水" not in (public or "")


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_request_without_a_location_is_400(client, api_key, fmt):
    """POST Service Request's required arguments: "location parameter: A full location parameter must be
    submitted. One of lat & long or address_string or address_id"; "basically 400 for any other error
    where the request can not be fulfilled as expected"."""
    service, definition, form = prepared(client, api_key)
    before = listed_ids(client)
    errors_of(client.post(f"{BASE}/requests.{fmt}", data=request_form(
        form["api_key"], service, definition, leave_out={"address_string"})), fmt, 400)
    assert listed_ids(client) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_request_without_a_required_attribute_is_400(client, api_key, fmt):
    """attribute: "required if the service_code requires a service definition with required fields";
    an attribute's `required`: "true means that the value is required to submit service request"."""
    service, definition, form = prepared(client, api_key)
    required = [a["code"] for a in definition.get("attributes") or [] if a.get("variable") and a.get("required")]
    if not required:
        pytest.skip(f"{service['service_code']} has no required attribute")
    before = listed_ids(client)
    accepted = []
    for code in required:
        response = client.post(f"{BASE}/requests.{fmt}", data=request_form(
            form["api_key"], service, definition, leave_out={code}))
        if response.status_code < 300:
            accepted.append(code)
        else:
            errors_of(response, fmt, 400)
    assert not accepted, f"accepted without the required attribute(s) {accepted}"
    assert listed_ids(client) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_value_outside_a_list_is_400(client, api_key, fmt):
    """singlevaluelist: "A set of predefined values (specified in this response) where only one value may be
    selected"; anything else is a request that "can not be fulfilled as expected", 400."""
    service, definition, form = prepared(client, api_key)
    lists = [a["code"] for a in definition.get("attributes") or []
             if a.get("variable") and a.get("datatype") == "singlevaluelist"]
    if not lists:
        pytest.skip(f"{service['service_code']} has no list attribute")
    errors_of(client.post(f"{BASE}/requests.{fmt}", data={**form, f"attribute[{lists[0]}]": "NO-SUCH-VALUE"}),
              fmt, 400)
    assert listed_ids(client) == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_and_unknown_request_are_404_in_the_error_format(client, fmt):
    """"HTTP error codes should always be 404 for resources that don't exist"."""
    errors_of(client.get(f"{BASE}/services/NO-SUCH-SERVICE.{fmt}"), fmt, 404)
    errors_of(client.get(f"{BASE}/requests/999999999.{fmt}"), fmt, 404)
    errors_of(client.get(f"{BASE}/requests/NO-SUCH-REQUEST.{fmt}"), fmt, 404)


def test_the_strict_checks_catch_what_they_should():
    """The checker itself: a foreign element, a misplaced one, an attribute and a DTD are each refused."""
    good = b'<?xml version="1.0" encoding="UTF-8"?><errors><error><code>403</code><description>x</description>' \
           b'</error></errors>'
    root = parse_strict(good)
    problems = []
    check_xml(root, ERRORS[1], "errors", problems)
    assert problems == []
    for bad in (b'<?xml version="1.0" encoding="UTF-8"?><errors><error><code>1</code><message>x</message>'
                b'</error></errors>',
                b'<?xml version="1.0" encoding="UTF-8"?><errors><fault><code>1</code></fault></errors>',
                b'<?xml version="1.0" encoding="UTF-8"?><errors><error lang="en"><code>1</code></error></errors>'):
        problems = []
        check_xml(parse_strict(bad), ERRORS[1], "errors", problems)
        assert problems, bad
    with pytest.raises(AssertionError):
        parse_strict(b'<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE e [<!ENTITY x "y">]><errors>&x;</errors>')
    with pytest.raises(AssertionError):
        parse_strict(b"<errors/>")  # no declaration
