"""Every string the UI shows has its Simplified Chinese translation (the default language)."""
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "hotline" / "translations" / "zh_Hans_CN" / "LC_MESSAGES"


@pytest.fixture(autouse=True)
def clean_database():  # no database needed
    yield


def extracted_ids() -> set[str]:
    ids = set()
    for folder, method in (("hotline", "python"), ("templates", "jinja2")):
        for _, _, message, _, _ in extract_from_dir(ROOT / folder, [("**.py" if method == "python" else "**.html",
                                                                     method)],
                                                    keywords={"_": None, "_l": None, "lazy_gettext": None,
                                                              "gettext": None}):
            ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_ui_string_is_translated_and_compiled():
    with open(CATALOG / "messages.po", "rb") as f:
        po = read_po(f)
    with open(CATALOG / "messages.mo", "rb") as f:
        mo = read_mo(f)
    translated = {m.id: m.string for m in po if m.id}
    missing = sorted(i for i in extracted_ids() if not translated.get(i))
    assert missing == [], "run `make translations` and translate these"
    stale = sorted(i for i, s in translated.items() if s and (mo.get(i) is None or mo.get(i).string != s))
    assert stale == [], "the .mo is older than the .po: run `make translations`"
