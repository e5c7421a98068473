"""Open311 discovery, service list and service definitions: both formats, the same content."""
import pytest

from hotline.open311.services import build_catalog
from tests.open311.conftest import BASE, errors, parse

FORMATS = ("xml", "json")


def services_of(client, fmt: str) -> list[dict]:
    data = parse(client.get(f"{BASE}/services.{fmt}"), fmt)
    if fmt == "json":
        return data
    assert data.tag == "services" and {e.tag for e in data} == {"service"}
    return [{child.tag: child.text for child in service} for service in data]


def test_discovery_names_the_endpoint_and_its_formats(client):
    xml = parse(client.get(f"{BASE}/discovery.xml"), "xml")
    assert [e.tag for e in xml] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = xml.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url") == "http://localhost/open311/v2"
    assert [f.text for f in endpoint.find("formats")] == ["text/xml", "application/json"]
    data = parse(client.get(f"{BASE}/discovery.json"), "json")
    assert data["changeset"] == xml.findtext("changeset") == data["endpoints"][0]["changeset"]
    assert data["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert "page_size" in data["contact"]  # paging is said in words: the spec has no field for it


def test_discovery_uses_the_public_url_when_set(app, client):
    app.config["PUBLIC_URL"] = "https://12315.example.cn/"
    try:
        data = parse(client.get(f"{BASE}/discovery.json"), "json")
    finally:
        app.config["PUBLIC_URL"] = None
    assert data["endpoints"][0]["url"] == "https://12315.example.cn/open311/v2"


def test_services_are_kinds_by_top_category_the_same_in_both_formats(client):
    xml, json = services_of(client, "xml"), services_of(client, "json")
    assert [s["service_code"] for s in xml] == [s["service_code"] for s in json]
    codes = [s["service_code"] for s in json]
    # 4 kinds × (10 goods + 13 service top categories + one for the rest)
    assert len(codes) == len(set(codes)) == 4 * 24
    assert codes[:2] == ["complaint-G01", "complaint-G02"] and "complaint" in codes and "report-S13" in codes
    first = json[0]
    assert first == {"service_code": "complaint-G01", "service_name": "投诉 · 家用电子电器",
                     "description": first["description"], "metadata": True, "type": "realtime",
                     "keywords": first["keywords"], "group": "投诉"}
    assert "手机" in first["keywords"] and "手机" in first["description"]
    assert xml[0]["metadata"] == "true" and xml[0]["type"] == "realtime"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_definition_lists_the_attributes_with_their_values(client, fmt):
    response = client.get(f"{BASE}/services/complaint-G01.{fmt}")
    data = parse(response, fmt)
    if fmt == "xml":
        assert data.tag == "service_definition" and data.findtext("service_code") == "complaint-G01"
        attributes = {a.findtext("code"): a for a in data.find("attributes")}
        assert attributes["subject"].findtext("required") == "true"
        assert [v.findtext("key") for v in attributes["category"].find("values")][:2] == ["G0101", "G0102"]
        assert attributes["amount"].find("values") is None
        return
    attributes = {a["code"]: a for a in data["attributes"]}
    assert [a["order"] for a in data["attributes"]] == list(range(1, len(attributes) + 1))
    assert attributes["subject"]["required"] and attributes["business_name"]["required"]
    assert not attributes["consumer_phone"]["required"]  # the spec's own `phone` may carry it instead
    assert attributes["amount"]["datatype"] == "number" and attributes["demand"]["datatype"] == "text"
    assert attributes["occurred_on"]["datatype"] == "datetime"
    assert {"key": "G0101", "name": "手机"} in attributes["category"]["values"]
    assert {"key": "I0101", "name": "质量 · 性能故障"} in attributes["issue"]["values"]
    assert attributes["location"]["variable"] is False  # information for the user, nothing to fill in


def test_kinds_offer_their_own_attributes(client):
    def codes(service):
        return {a["code"] for a in parse(client.get(f"{BASE}/services/{service}.json"), "json")["attributes"]}
    assert "category" not in codes("complaint")  # the service for everything outside the categories
    assert {"anonymous", "business_name"} <= codes("report-S13") and "amount" not in codes("report-S13")
    assert codes("consultation") >= {"subject", "consumer_phone"} and "issue" not in codes("consultation")


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_service_and_format_are_404_in_the_error_format(client, fmt):
    for code in ("grievance", "complaint-G0101", "complaint-X99", "complaint-"):
        assert errors(client.get(f"{BASE}/services/{code}.{fmt}"), fmt, 404) == ["service_code: 没有此服务"]
    assert errors(client.get(f"{BASE}/services.html"), "xml", 404)  # XML: the format the spec requires


def test_catalog_service_of_a_case_prefers_goods_then_service():
    rows = [("goods", "G01", "电器", None), ("goods", "G0101", "手机", "G01"), ("service", "S03", "互联网", None),
            ("service", "S0301", "网购", "S03"), ("issue", "I01", "质量", None), ("issue", "I0101", "故障", "I01"),
            ("issue", "I12", "其他", None)]
    catalog = build_catalog(rows)
    assert catalog.service_of_case("complaint", "G0101", "S0301").code == "complaint-G01"
    assert catalog.service_of_case("report", None, "S0301").code == "report-S03"
    assert catalog.service_of_case("report", "ZZ", None).code == "report"  # unknown code: the kind's own
    assert catalog.issues == [("I0101", "质量 · 故障"), ("I12", "其他")]
    assert catalog.service("complaint-G0101") is None  # sub-categories are attribute values, not services
    assert build_catalog(rows[:2]).digest != catalog.digest  # the discovery changeset follows the pack
