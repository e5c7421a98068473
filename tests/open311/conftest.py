"""Helpers for the Open311 tests (tests/open311/test_*.py; the spec's black-box test keeps its own)."""
import json
from xml.etree import ElementTree

import pytest

BASE = "/open311/v2"
ADDRESS = "辽宁省鞍山市铁西区兴盛街道人民路88号"  # routes to the 铁西 bureau


def parse(response, fmt: str):
    """The body as Python data: JSON as is; XML as (root tag, element) after checking the declaration."""
    body = response.get_data()
    if fmt == "json":
        assert response.content_type == "application/json; charset=utf-8"
        return json.loads(body)
    assert response.content_type == "text/xml; charset=utf-8"
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(body)


def errors(response, fmt: str, status: int) -> list[str]:
    """The descriptions of an error response in the specification's format, checking its status and shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    data = parse(response, fmt)
    if fmt == "json":
        assert all(set(e) == {"code", "description"} and e["code"] == status for e in data)
        return [e["description"] for e in data]
    assert data.tag == "errors" and [e.tag for e in data] == ["error"] * len(data)
    assert all([c.tag for c in e] == ["code", "description"] and e.findtext("code") == str(status) for e in data)
    return [e.findtext("description") for e in data]


def complaint_form(api_key: str | None, **over) -> dict:
    form = {"service_code": "complaint-G01", "attribute[subject]": "手机屏幕质量问题",
            "attribute[category]": "G0101", "attribute[issue]": "I0101", "attribute[business_name]": "测试商店",
            "attribute[consumer_name]": "张三", "attribute[consumer_phone]": "13900001111",
            "attribute[amount]": "1999.00", "attribute[demand]": "退货", "address_string": ADDRESS,
            "description": "买的手机第二天屏幕就坏了。", "account_id": "app-42"}
    if api_key is not None:
        form["api_key"] = api_key
    form.update(over)
    return {k: v for k, v in form.items() if v is not None}


@pytest.fixture
def api_key_for(make_user):
    """A staff API token (the Open311 api_key) for a new user of the role."""
    from hotline.auth.operations import create_token
    from hotline.extensions import db

    def make(role="operator", **where) -> str:
        user = make_user(role, **where)
        token = create_token(user.username)
        db.session.commit()
        return token
    return make


@pytest.fixture
def post_request(client):
    def post(form: dict, fmt: str = "json"):
        return client.post(f"{BASE}/requests.{fmt}", data=form)
    return post
