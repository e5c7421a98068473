"""Every error a person meets is the app's own page: in Chinese, with the header, never Werkzeug's
bare English page (issue 7, bug 1 and polish 17); API paths keep their JSON error shape."""
import logging

import pytest

from tests.conftest import PASSWORD, csrf_token


def _own_page(response, status: int, title: str) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<header class="top">' in page  # the site's frame, with its way back
    assert title in page
    assert "Werkzeug" not in page
    for english in ("Not Found", "Internal Server Error", "Too Many Requests", "Method Not Allowed", "Forbidden",
                    "Bad Request", "Request Entity Too Large"):
        assert english not in page
    return page


@pytest.fixture
def breaks(app, monkeypatch):
    """A page whose view fails, with errors answered as in production (not re-raised into the test)."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)

    def boom(*args, **kwargs):
        raise RuntimeError("a bug")

    def make(endpoint: str):
        monkeypatch.setitem(app.view_functions, endpoint, boom)
    return make


def test_500_is_the_apps_page_with_a_logged_reference(client, make_user, login, breaks, caplog):
    login(client, make_user("supervisor"))
    breaks("reference.answers")
    with caplog.at_level(logging.ERROR, logger="hotline"):
        response = client.get("/answers")
    page = _own_page(response, 500, "系统出错")
    import re
    reference = re.search(r'<code class="reference">([0-9a-f]{8})</code>', page).group(1)
    logged = [r for r in caplog.records if reference in r.getMessage()]
    assert logged and logged[0].exc_info and "a bug" in str(logged[0].exc_info[1])
    assert "Log out" not in page  # the header is the logged-in user's, in Chinese


def test_500_on_the_api_keeps_the_json_shape(client, make_user, token_for, breaks):
    breaks("api.list_cases")
    response = client.get("/api/v1/cases", headers=token_for(make_user("operator")))
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "server_error"


def test_404_and_403_pages(client, make_user, login):
    page = _own_page(client.get("/no-such-page"), 404, "页面不存在")
    assert "English" in page and "返回首页" in page  # anonymous: the header's language links, and the way back
    login(client, make_user("operator"))
    _own_page(client.get("/no-such-page"), 404, "页面不存在")
    _own_page(client.get("/admin/routing"), 403, "无权访问")


def test_400_405_and_413_pages(client, make_user, login):
    login(client, make_user("operator"))
    _own_page(client.get("/cases?q=%00"), 400, "请求有误")
    _own_page(client.get("/logout"), 405, "不支持此操作方式")
    big = "x" * (client.application.config["MAX_CONTENT_LENGTH"] + 10)
    _own_page(client.post("/login", data={"username": big}), 413, "提交内容过大")


def test_429_page_is_chinese(client, make_user):
    user = make_user("operator")
    for _ in range(5):
        client.post("/login", data={"username": user.username, "password": "wrong", "csrf_token": csrf_token(client)})
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                            "csrf_token": csrf_token(client)})
    _own_page(response, 429, "尝试次数过多")


def test_error_pages_follow_the_language(client, make_user, login):
    client.get("/lang/en")
    page = client.get("/no-such-page").get_data(as_text=True)
    assert "Page not found" in page and "页面不存在" not in page


def test_api_errors_keep_the_json_shape(client, make_user, token_for):
    headers = token_for(make_user("operator"))
    response = client.get("/api/v1/no-such-thing", headers=headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
    response = client.delete("/api/v1/cases", headers=headers)
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
