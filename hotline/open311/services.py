"""The Open311 service list and service definitions, made from the region pack's categories.

A service is a case kind × a top category of the goods (商品) or service (服务) axis, plus one service
per kind for everything else. Service codes are stable and readable:

    complaint-G01     投诉 · 家用电子电器   (kind, a hyphen, the top category's code)
    report-S13        举报 · 预付式消费
    consultation      咨询 · 其他商品和服务 (the kind alone: no category)

The sub-category (手机 under 家用电子电器) is the service's `category` attribute and the problem (质量,
价格 ... the issue axis) its `issue` attribute, so that a client shows 4 × 24 services, not 4 × 95
leaves. A hyphen, not a dot, joins the parts: the format suffix (`.xml`) follows the code in URLs."""
from dataclasses import dataclass, field
from hashlib import sha256

from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline.cases.schemas import KINDS
from hotline.extensions import db
from hotline.labels import label
from hotline.reference.models import Category

SERVICE_AXES = ("goods", "service")  # the axes a service is made of; the issue axis is an attribute
# Bump when the shape of services or definitions changes in code; the categories' digest follows the pack.
SCHEME_VERSION = "2026-11-26"

KIND_DESCRIPTIONS = {
    "complaint": _l("A consumer's dispute with a business over goods or services, mediated by the market "
                    "regulator (SAMR Order 121)"),
    "report": _l("A lead on a violation by a business, verified by the market regulator; the reporter's details "
                 "are kept confidential (SAMR Order 121 art. 37)"),
    "consultation": _l("A question about consumer rights, answered by the 12315 centre"),
    "suggestion": _l("A suggestion to the market regulator"),
}


@dataclass(frozen=True)
class Top:
    """A top category of the goods or service axis, with its sub-categories as (code, name)."""
    axis: str
    code: str
    name: str
    children: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Service:
    code: str
    kind: str
    top: Top | None  # None: the kind's service for everything outside the categories

    @property
    def name(self) -> str:
        return f"{label(self.kind)} · {self.top.name if self.top else _l('other goods and services')}"


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str  # string | number | datetime | text | singlevaluelist | multivaluelist (the spec's)
    kinds: tuple[str, ...]  # the kinds whose services offer it
    required_for: tuple[str, ...]
    description: object  # a lazy string
    datatype_description: object | None = None
    variable: bool = True  # False: information shown to the user, nothing to fill in


ALL = KINDS
CASES_AGAINST_A_BUSINESS = ("complaint", "report")
# The case fields a client sends as attribute[code]=value (intake.py maps them onto the case).
ATTRIBUTES = (
    Attribute("subject", "string", ALL, ALL, _l(
        "Subject: the matter in one line. It is shown in the public list of requests, so write no names, phone "
        "numbers or addresses of people in it"), _l("at most 255 characters")),
    Attribute("category", "singlevaluelist", ALL, (), _l("Sub-category")),
    Attribute("issue", "singlevaluelist", CASES_AGAINST_A_BUSINESS, (), _l("Kind of problem")),
    Attribute("business_name", "string", ALL, CASES_AGAINST_A_BUSINESS, _l(
        "Name of the business (for an online shop, the shop's name)")),
    Attribute("business_platform", "string", CASES_AGAINST_A_BUSINESS, (), _l(
        "Online platform the business sells on, if any (a platform seller without an address is handled where "
        "the platform is registered)")),
    Attribute("business_uscc", "string", CASES_AGAINST_A_BUSINESS, (), _l(
        "The business's unified social credit code, if known"), _l("18 characters, with its check character")),
    Attribute("business_phone", "string", CASES_AGAINST_A_BUSINESS, (), _l("The business's phone number")),
    # Not `required` in the definition: the specification's own first_name, last_name and phone can carry
    # them instead. A complaint without them is refused by the intake's rule, naming these attributes.
    Attribute("consumer_name", "string", ALL, (), _l(
        "Name of the consumer; a complaint needs it (here, or as first_name and last_name). A reporter's name is "
        "kept confidential")),
    Attribute("consumer_phone", "string", ALL, (), _l(
        "Mobile phone of the consumer; a complaint needs it (here, or as phone). The case number and the query "
        "code are sent to it by SMS"), _l("a mobile number of 11 digits")),
    Attribute("consumer_address", "string", ("complaint",), (), _l("Postal address of the consumer")),
    Attribute("anonymous", "singlevaluelist", ("report", "consultation", "suggestion"), (), _l(
        "Anonymous: no name is recorded and no SMS is sent; the query code is then in the service notice")),
    Attribute("amount", "number", ("complaint",), (), _l("Amount in dispute, in yuan"),
              _l("yuan with at most two decimal places, e.g. 199.00")),
    Attribute("demand", "text", ("complaint",), (), _l("What the consumer asks for: a refund, a repair, "
                                                       "compensation ...")),
    Attribute("occurred_on", "datetime", CASES_AGAINST_A_BUSINESS, (), _l("Date of the purchase or of the events"),
              _l("a date, e.g. 2026-11-01")),
    Attribute("location", "string", CASES_AGAINST_A_BUSINESS, (), _l(
        "Location: give the business's address as address_string. A case is handled by the bureau where the "
        "business operates; coordinates alone cannot be placed."), variable=False),
)
ANONYMOUS_VALUES = (("false", _l("not anonymous")), ("true", _l("anonymous")))


@dataclass
class Catalog:
    """The pack's categories as Open311 sees them, read once per request."""
    tops: list[Top]
    issues: list[tuple[str, str]]  # issue leaves as (code, "质量 · 性能故障")
    top_of: dict[str, Top] = field(default_factory=dict)  # every goods/service code (top or child) → its top
    digest: str = ""

    def services(self) -> list[Service]:
        """Per kind, its category services in pack order, then its service for everything else."""
        return [service for kind in KINDS
                for service in [*(Service(f"{kind}-{top.code}", kind, top) for top in self.tops),
                                Service(kind, kind, None)]]

    def service(self, code: str | None) -> Service | None:
        kind, hyphen, category = (code or "").partition("-")
        if kind not in KINDS:
            return None
        if not hyphen:
            return Service(kind, kind, None)
        top = self.top_of.get(category)
        return Service(code, kind, top) if top is not None and top.code == category else None

    def service_of_case(self, kind: str, goods: str | None, service: str | None) -> Service:
        """The service a case falls under: its goods category's top, else its service category's, else
        the kind's own (the goods axis wins when a case has both, as on the console)."""
        for code in (goods, service):
            top = self.top_of.get(code or "")
            if top is not None:
                return Service(f"{kind}-{top.code}", kind, top)
        return Service(kind, kind, None)


def load_catalog() -> Catalog:
    """The catalog for this request (one small query; categories change only with the region pack)."""
    cached = g.get("open311_catalog")
    if cached is not None:
        return cached
    rows = db.session.execute(select(Category.axis, Category.code, Category.name, Category.parent_code)
                              .order_by(Category.axis, Category.position, Category.code)).all()
    catalog = build_catalog([tuple(row) for row in rows])
    g.open311_catalog = catalog
    return catalog


def build_catalog(rows: list[tuple[str, str, str, str | None]]) -> Catalog:
    """From (axis, code, name, parent code) rows, in position order."""
    children: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for axis, code, name, parent in rows:
        if parent:
            children.setdefault((axis, parent), []).append((code, name))
    tops, issues, top_of = [], [], {}
    names = {(axis, code): name for axis, code, name, _ in rows}
    for axis in SERVICE_AXES:
        for row_axis, code, name, parent in rows:
            if row_axis != axis or parent:
                continue
            top = Top(axis, code, name, tuple(children.get((axis, code), ())))
            tops.append(top)
            top_of[code] = top
            top_of.update({child: top for child, _ in top.children})
    for axis, code, name, parent in rows:
        if axis == "issue" and (parent or not children.get((axis, code))):  # a leaf: a child, or a top alone
            issues.append((code, f"{names[(axis, parent)]} · {name}" if parent else name))
    digest = sha256(repr(sorted(rows, key=lambda r: (r[0], r[1]))).encode()).hexdigest()[:8]
    return Catalog(tops, issues, top_of, digest)


def service_json(service: Service) -> dict:
    """One entry of GET services, in the specification's field order."""
    if service.top is not None:
        description = _l("%(kind)s. Covers: %(categories)s", kind=KIND_DESCRIPTIONS[service.kind],
                         categories="、".join(name for _, name in service.top.children) or service.top.name)
        keywords = [service.top.name, *(name for _, name in service.top.children), label(service.kind)]
    else:
        description = _l("%(kind)s, about goods or services outside the categories listed",
                         kind=KIND_DESCRIPTIONS[service.kind])
        keywords = [label(service.kind)]
    return {"service_code": service.code, "service_name": service.name, "description": str(description),
            "metadata": True, "type": "realtime", "keywords": ", ".join(keywords),
            "group": label(service.kind)}


def attributes_of(service: Service, catalog: Catalog) -> list[Attribute]:
    return [a for a in ATTRIBUTES if service.kind in a.kinds
            and (a.code != "category" or (service.top is not None and service.top.children))]


def definition_json(service: Service, catalog: Catalog) -> dict:
    """GET services/{code}: the attributes a client fills in (attribute[code]=value in the POST)."""
    attributes = []
    for order, attribute in enumerate(attributes_of(service, catalog), start=1):
        entry = {"variable": attribute.variable, "code": attribute.code, "datatype": attribute.datatype,
                 "required": service.kind in attribute.required_for,
                 "datatype_description": str(attribute.datatype_description)
                 if attribute.datatype_description else None,
                 "order": order, "description": str(attribute.description)}
        values = list_values(attribute.code, service, catalog)
        if values is not None:
            entry["values"] = [{"key": key, "name": str(name)} for key, name in values]
        attributes.append(entry)
    return {"service_code": service.code, "attributes": attributes}


def list_values(code: str, service: Service, catalog: Catalog) -> list[tuple[str, object]] | None:
    """The choices of a list attribute (None for the others)."""
    if code == "category":
        return list(service.top.children)
    if code == "issue":
        return list(catalog.issues)
    if code == "anonymous":
        return list(ANONYMOUS_VALUES)
    return None


SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"


def discovery_json(catalog: Catalog) -> dict:
    """The Service Discovery document. Its changeset (sortable) changes with the scheme here and with the
    region pack's categories, which make the services: a client refreshes its cached list then. The
    paging and the range of GET requests have no field of their own in the specification, so `contact`
    says them in words."""
    from flask import current_app, url_for

    from hotline.open311.queries import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, centre_name
    changeset = f"{SCHEME_VERSION} {catalog.digest}"
    base = current_app.config.get("PUBLIC_URL")
    url = base.rstrip("/") + "/open311/v2" if base else url_for("open311.discovery", fmt="xml", _external=True)
    url = url.removesuffix("/discovery.xml")
    contact = _l(
        "%(centre)s, phone 12315. GET requests: the last 90 days by default, a range of at most 90 days; page "
        "(from 1) and page_size (1 to %(max)s, default %(default)s), newest first. Reports (举报) are listed only "
        "to staff who may see them.", centre=centre_name(current_app.config["REGION"]), max=MAX_PAGE_SIZE,
        default=DEFAULT_PAGE_SIZE)
    key_service = _l("api_key is a staff API token issued by the 12315 centre's administrator; the token of an "
                     "operator, a station, a supervisor or an administrator may create requests.")
    return {"changeset": changeset, "contact": str(contact), "key_service": str(key_service), "endpoints": [{
        "specification": SPECIFICATION, "url": url, "changeset": changeset,
        "type": "production" if current_app.config["ENV"] == "production" else "test",
        "formats": ["text/xml", "application/json"]}]}
