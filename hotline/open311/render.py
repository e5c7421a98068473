"""Open311 documents as XML or JSON, and the specification's error format.

One structure renders both ways (the specification's JSON is the Spark convention's mapping of its XML):
a list becomes an element holding one child per item, named by ITEM_NAMES (<services><service>...), a
dict an element with a child per key, booleans `true`/`false`, None an empty element (null in JSON).
XML is UTF-8 with the declaration the specification asks for, without a namespace."""
import json
import re
from xml.etree import ElementTree

from flask import Response

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
ITEM_NAMES = {"services": "service", "attributes": "attribute", "values": "value", "service_requests": "request",
              "endpoints": "endpoint", "formats": "format", "errors": "error"}
XML_DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
# Characters XML 1.0 cannot carry even escaped (control characters but tab and newlines): a stored text
# may hold them (the intake refuses only NUL), and one would make the whole document unreadable.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class Open311Error(Exception):
    """An error answered in the specification's format: HTTP status 400, 403, 404 ... and one or more
    descriptions meant for the user."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__("; ".join(descriptions))
        self.status = status
        self.descriptions = list(descriptions) or ["error"]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(element: ElementTree.Element, value) -> None:
    if isinstance(value, list):
        for item in value:
            _fill(ElementTree.SubElement(element, ITEM_NAMES[element.tag]), item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _fill(ElementTree.SubElement(element, key), item)
    else:
        element.text = _text(value)


def to_xml(root: str, data) -> bytes:
    element = ElementTree.Element(root)
    _fill(element, data)
    return XML_DECLARATION + ElementTree.tostring(element, encoding="unicode").encode("utf-8") + b"\n"


def to_json(data) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def respond(fmt: str, root: str, data, status: int = 200) -> Response:
    """The document in the requested format; `root` names the XML root element."""
    body = to_json(data) if fmt == "json" else to_xml(root, data)
    return Response(body, status=status, content_type=FORMATS["json" if fmt == "json" else "xml"])


def error_response(fmt: str, status: int, descriptions: list[str]) -> Response:
    """<errors><error><code>403</code><description>...</description></error></errors>: the code is the
    HTTP status, as the specification does in most cases."""
    return respond(fmt, "errors", [{"code": status, "description": text} for text in descriptions], status)
