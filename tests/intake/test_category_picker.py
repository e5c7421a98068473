"""Categories are picked from one searchable list (name, code or pinyin initials); the page still posts
`category.goods/service/issue` and works without JavaScript."""
import re

from hotline.cases.models import Case
from hotline.extensions import db
from hotline.reference.queries import category_choices, pinyin_initials
from tests.intake.test_console import FORM


def test_pinyin_initials_are_what_operators_type():
    assert pinyin_initials("乳制品") == "rzp"
    assert pinyin_initials("银行") == "yh"  # a polyphone read in its word, not hang/xing at random
    assert pinyin_initials("3C数码") == "3csm"
    before = pinyin_initials.cache_info().hits
    pinyin_initials("乳制品")
    assert pinyin_initials.cache_info().hits == before + 1  # computed once per process


def test_choices_cover_three_axes_with_their_parents():
    choices = category_choices()
    assert set(choices) == {"goods", "service", "issue"}
    food = next(children for top, children in choices["goods"] if top.name == "食品")
    milk = next(c for c in food if c.code == "G0203")
    assert (milk.name, milk.initials, milk.path) == ("乳制品", "rzp", "食品 › 乳制品")


def test_the_page_offers_one_searchable_picker_with_a_plain_fallback(client, make_user, login):
    login(client, make_user("operator"))
    html = client.get("/console").get_data(as_text=True)
    # The combobox (shown by console.js) with its listbox, labelled.
    assert re.search(r'<input id="category-search" type="text" role="combobox" aria-autocomplete="list" '
                     r'aria-expanded="false"\s+aria-controls="category-listbox"', html)
    assert 'id="category-listbox" role="listbox"' in html and '<label for="category-search">' in html
    # Every option carries what the picker searches: name, code, pinyin initials, parent.
    assert re.search(r'<option value="G0203" data-name="乳制品" data-pinyin="rzp" data-path="食品 › 乳制品"', html)
    # The fallback selects group by the top category instead of indenting with a full-width space.
    assert '<optgroup label="食品">' in html
    assert not re.search(r"<option[^>]*>　", html)
    # CSP allows no inline script: every script is a static file.
    scripts = re.findall(r"<script[^>]*>", html)
    assert '<script src="/static/console.js">' in scripts and all(' src="/static/' in s for s in scripts)


def test_a_category_posted_by_the_form_is_registered(client, make_user, login):
    csrf = login(client, make_user("operator"))
    response = client.post("/console", data={**FORM, "category.goods": "G0203", "category.issue": "I0101",
                                             "csrf_token": csrf}, follow_redirects=True)
    assert response.status_code == 200
    case = db.session.query(Case).one()
    assert (case.category_goods, case.category_service, case.category_issue) == ("G0203", None, "I0101")


def test_a_code_from_the_wrong_axis_is_refused_by_name(client, make_user, login):
    csrf = login(client, make_user("operator"))
    response = client.post("/console", data={**FORM, "category.service": "G0203", "csrf_token": csrf})
    assert response.status_code == 422
    assert 'data-field="category.service"' in response.get_data(as_text=True)
    assert db.session.query(Case).count() == 0


def test_the_station_page_has_the_same_picker(client, make_user, login):
    login(client, make_user("station", station="ST-TD-01"))
    html = client.get("/station").get_data(as_text=True)
    assert 'role="combobox"' in html and 'data-pinyin="rzp"' in html
