"""The reports in words and tables: the yearly report as a document in the shape of a government-information
annual report (一、总体情况 … with tables), written as Markdown, HTML or CSV; the monthly report's tables,
shown on its page and exported. Cells keep counts as int and yuan as Decimal (so CSV and XLSX get numbers);
rates and changes are text."""
import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask import render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hotline.labels import label
from hotline.stats.reports import KINDS, OTHER, TOP_CATEGORIES, Line, MonthlyReport, YearReport, change

FORMATS = ("md", "html", "csv")
DASH = "–"  # nothing to measure: no base, no rating

INDICATORS = {
    "received": _l("Cases registered"), "online": _l("Cases about online-platform sellers"),
    "online_share": _l("Online-platform share"), "closed": _l("Cases closed"),
    "recovered": _l("Money recovered for consumers (yuan)"), "decided_on_time": _l("On-time decision rate"),
    "closed_on_time": _l("On-time closure rate"), "mediated": _l("Complaints settled by mediation"),
    "mediation_success": _l("Mediation success rate"), "rated": _l("Ratings from consumers"),
    "satisfied": _l("Satisfaction (ratings of 4 or 5)"), "mean_rating": _l("Mean rating (out of 5)"),
    "transferred": _l("Transferred out to another authority"), "returned": _l("Returns to the centre"),
    "extensions": _l("Extension requests made"), "alerts": _l("Consumer alerts published"),
    "case": _l("Case notices to consumers"), "alert": _l("Consumer alerts to subscribers"),
    "staff": _l("Deadline reminders to staff"), "other": _l("Other (confirmation codes and the like)"),
    "total": _l("Total"),
}
NUMERALS = (_l("I."), _l("II."), _l("III."), _l("IV."), _l("V."), _l("VI."), _l("VII."), _l("VIII."))
SUBNUMERALS = (_l("(1)"), _l("(2)"), _l("(3)"), _l("(4)"))


@dataclass
class Table:
    key: str
    title: str
    header: list[str]
    rows: list[list]
    numeric_from: int = 1  # columns from this one on hold figures (aligned right)
    labels: list[str] | None = None  # shorter column names, where a phone shows each row as a card

    @property
    def card_labels(self) -> list[str]:
        return self.labels or self.header


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    items: list[str] = field(default_factory=list)


@dataclass
class Document:
    title: str
    lines: list[str]  # under the title: period, scope, when generated
    sections: list[Section]


# --- figures as text -----------------------------------------------------------------------------

CODE_NAMES = {"": _l("uncategorised"), "none": _l("other outcome"), OTHER: _l("Other categories"),
              "total": _l("Total")}


def name_of(line: Line, codes: bool = False) -> str:
    """What a row is called: its own name, else a code's label (kinds, channels, outcomes: `codes`), else
    the figure's name."""
    if line.name is not None:
        return line.name
    if codes:
        return str(CODE_NAMES[line.key]) if line.key in CODE_NAMES else label(line.key)
    return str(INDICATORS[line.key]) if line.key in INDICATORS else label(line.key)


def percent(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f}%"


def value_cell(value, unit: str):
    """The figure as a cell: counts and yuan stay numbers, rates and means become text."""
    if value is None:
        return DASH
    if unit == "rate":
        return percent(value)
    if unit == "mean":
        return f"{value:.2f}"
    return value


def signed(value, unit: str) -> str:
    if value is None:
        return DASH
    if not value:
        return "0"
    if unit == "rate":
        return _("%(points)s pts", points=f"{value * 100:+.1f}")
    if unit == "mean":
        return f"{value:+.2f}"
    if unit == "money":
        return f"{value:+,.2f}"
    return f"{value:+d}"


def change_cells(current, base, unit: str) -> list[str]:
    """[the change, the change in %]: a rate changes by points (no relative change); no base: "–"."""
    diff, share = change(current, base)
    if unit in ("rate", "mean"):
        return [signed(diff, unit), ""]
    return [signed(diff, unit), percent(share)]


def cell_text(value) -> str:
    if value is None:
        return DASH
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def month_name(month: date) -> str:
    return _("%(month)s/%(year)s", month=month.month, year=month.year)


def year_name(year: int) -> str:
    return _("Year %(year)s", year=year)


def heading(number: int, title: str, sub: bool = False) -> str:
    numerals = SUBNUMERALS if sub else NUMERALS
    return _("%(number)s %(title)s", number=numerals[number - 1], title=title)


def trend_phrase(current, base, unit: str = "count") -> str:
    """The change on the year before in words: cases (件) or yuan (元)."""
    diff, share = change(current, base)
    if not base:
        return _("nothing the year before to compare with")
    if diff == 0:
        return _("the same as the year before")
    size, pct = cell_text(abs(diff)), percent(abs(share))
    if unit == "money":
        return (_("up %(n)s yuan (%(pct)s) on the year before", n=size, pct=pct) if diff > 0
                else _("down %(n)s yuan (%(pct)s) on the year before", n=size, pct=pct))
    return (_("up %(n)s (%(pct)s) on the year before", n=size, pct=pct) if diff > 0
            else _("down %(n)s (%(pct)s) on the year before", n=size, pct=pct))


# --- the monthly report --------------------------------------------------------------------------

def _month_header(first: str, report: MonthlyReport) -> list[str]:
    return [first, month_name(report.month),
            _("Same month last year (%(month)s)", month=month_name(report.last_year)),
            _("Year on year"), _("Year on year (%)"),
            _("Previous month (%(month)s)", month=month_name(report.previous)),
            _("Month on month"), _("Month on month (%)")]


def _month_labels(first: str) -> list[str]:
    return [first, _("This month"), _("Year ago"), _("YoY"), _("YoY %"), _("Last month"), _("MoM"), _("MoM %")]


def _month_row(line: Line, codes: bool = False) -> list:
    last_year, previous = line.bases
    return [name_of(line, codes), value_cell(line.current, line.unit), value_cell(last_year, line.unit),
            *change_cells(line.current, last_year, line.unit), value_cell(previous, line.unit),
            *change_cells(line.current, previous, line.unit)]


def _total(lines: list[Line]) -> Line:
    return Line("total", sum(line.current for line in lines),
                tuple(sum(line.bases[i] for line in lines) for i in range(len(lines[0].bases))) if lines else ())


def month_tables(report: MonthlyReport) -> dict[str, Table]:
    """The monthly report's tables, in page order: kinds, categories, headline figures, businesses."""
    kinds = [*report.by_kind, _total(report.by_kind)]
    tables = {
        "kind": Table("kind", _("Intake by kind"), _month_header(_("Kind"), report),
                      [_month_row(x, codes=True) for x in kinds], labels=_month_labels(_("Kind"))),
        "category": Table("category", _("Intake by category (the %(n)s largest)", n=TOP_CATEGORIES),
                          _month_header(_("Category"), report),
                          [_month_row(x, codes=True) for x in report.by_category], labels=_month_labels(_("Category"))),
        "indicators": Table("indicators", _("Headline figures"), _month_header(_("Figure"), report),
                            [_month_row(x) for x in report.indicators], labels=_month_labels(_("Figure"))),
    }
    header = [_("Business"), _("Complaints counted"), _("Accepted"), _("Mediations ended"), _("Settled by mediation"),
              _("Mediation success rate")]
    labels = [_("Business"), _("Counted"), _("Accepted"), _("Ended"), _("Settled"), _("Success rate")]
    if report.disclosure == "rule":
        header.append(_("Disclosed"))
        labels.append(_("Disclosed"))
    rows = []
    for b in report.businesses:
        row = [b.name, b.counted, b.accepted, b.mediation_closed, b.mediated, percent(b.success_rate)]
        if report.disclosure == "rule":
            row.append(_("yes") if b.disclosed else _("no"))
        rows.append(row)
    tables["businesses"] = Table("businesses", _("Complaints per business"), header, rows, labels=labels)
    return tables


# --- the yearly report ---------------------------------------------------------------------------

def _year_header(first: str, year: int, share: bool = False) -> list[str]:
    header = [first, year_name(year), year_name(year - 1), _("Increase or decrease"), _("Change (%)")]
    return [*header, _("Share")] if share else header


def _year_rows(lines: list[Line], share_of: int | None = None, codes: bool = False) -> list[list]:
    rows = []
    for line in lines:
        base = line.bases[0]
        row = [name_of(line, codes), value_cell(line.current, line.unit), value_cell(base, line.unit),
               *change_cells(line.current, base, line.unit)]
        if share_of is not None:
            row.append(percent(line.current / share_of if share_of else None))
        rows.append(row)
    return rows


def _indicator(report: YearReport, key: str) -> Line:
    return next(line for line in report.indicators if line.key == key)


def _overview(report: YearReport) -> list[str]:
    received = _indicator(report, "received")
    kinds = {line.key: line.current for line in report.by_kind}
    rates = {key: _indicator(report, key).current for key in
             ("decided_on_time", "closed_on_time", "mediation_success", "satisfied", "mean_rating")}
    mean, rated = rates["mean_rating"], _indicator(report, "rated").current
    sms = next(line for line in report.sms if line.key == "total")
    ratings = (_("Consumers rated %(rated)s closed cases: %(satisfied)s of the ratings were 4 or 5 out of 5 (mean "
                 "%(mean)s).", rated=rated, satisfied=percent(rates["satisfied"]), mean=f"{mean:.2f}")
               if rated else _("No consumer rated a closed case."))
    return [
        _("In %(year)s, %(total)s cases were registered, %(trend)s: %(complaints)s complaints, %(reports)s reports, "
          "%(consultations)s consultations and %(suggestions)s suggestions. %(online)s of them (%(share)s) concerned "
          "businesses selling on online platforms.",
          year=report.year, total=received.current, trend=trend_phrase(received.current, received.bases[0]),
          complaints=kinds.get("complaint", 0), reports=kinds.get("report", 0),
          consultations=kinds.get("consultation", 0), suggestions=kinds.get("suggestion", 0),
          online=_indicator(report, "online").current, share=percent(_indicator(report, "online_share").current)),
        _("%(closed)s cases were closed; %(mediated)s complaints were settled by mediation, and %(money)s yuan was "
          "recovered for consumers.", closed=_indicator(report, "closed").current,
          mediated=_indicator(report, "mediated").current, money=cell_text(_indicator(report, "recovered").current)),
        _("On-time decision rate %(decided)s, on-time closure rate %(closed)s, mediation success rate %(mediation)s. "
          "%(ratings)s", decided=percent(rates["decided_on_time"]), closed=percent(rates["closed_on_time"]),
          mediation=percent(rates["mediation_success"]), ratings=ratings),
        _("Consumer alerts published: %(alerts)s; text messages sent: %(sms)s.",
          alerts=report.alerts.current, sms=sms.current),
    ]


def _intake_section(report: YearReport) -> Section:
    total = _indicator(report, "received").current
    kinds = [*report.by_kind, _total(report.by_kind)]
    channels = [*report.by_channel, _total(report.by_channel)]
    month_header = [_("Month"), *(label(kind) for kind in KINDS), _("Total"),
                    _("Same month, %(year)s", year=report.year - 1)]
    months = [[month_name(m.month), *(m.by_kind.get(kind, 0) for kind in KINDS), m.total, m.last_year]
              for m in report.by_month]
    months.append([_("Total"), *(sum(m.by_kind.get(kind, 0) for m in report.by_month) for kind in KINDS),
                   sum(m.total for m in report.by_month), sum(m.last_year for m in report.by_month)])
    return Section(_("Cases received"), tables=[
        Table("year_kind", heading(1, _("By kind"), sub=True), _year_header(_("Kind"), report.year, share=True),
              _year_rows(kinds, share_of=total, codes=True)),
        Table("year_channel", heading(2, _("By channel"), sub=True),
              _year_header(_("Channel"), report.year, share=True), _year_rows(channels, share_of=total, codes=True)),
        Table("year_month", heading(3, _("By month"), sub=True), month_header, months),
    ])


def _outcome_section(report: YearReport) -> Section:
    closed = _indicator(report, "closed")
    recovered = _indicator(report, "recovered")
    money = _("%(money)s yuan was recovered for consumers, %(trend)s.", money=cell_text(recovered.current),
              trend=trend_phrase(recovered.current, recovered.bases[0], "money"))
    return Section(_("Outcomes"), paragraphs=[money], tables=[
        Table("year_closed_kind", heading(1, _("Cases closed, by kind"), sub=True),
              _year_header(_("Kind"), report.year),
              _year_rows([*report.closed_by_kind, _total(report.closed_by_kind)], codes=True)),
        Table("year_outcome", heading(2, _("Cases closed, by outcome"), sub=True),
              _year_header(_("Outcome"), report.year, share=True),
              _year_rows(report.by_outcome, closed.current, codes=True)),
        Table("year_handling", heading(3, _("Transfers, returns and extensions"), sub=True),
              _year_header(_("Item"), report.year), _year_rows(report.handling)),
    ])


def _quality_section(report: YearReport) -> Section:
    keys = ("decided_on_time", "closed_on_time", "mediated", "mediation_success", "rated", "satisfied", "mean_rating")
    return Section(_("Timeliness and satisfaction"), tables=[
        Table("year_quality", _("Timeliness, mediation and satisfaction"), _year_header(_("Figure"), report.year),
              _year_rows([_indicator(report, key) for key in keys]))])


def _outreach_section(report: YearReport) -> Section:
    return Section(_("Consumer alerts and text messages"), tables=[
        Table("year_outreach", _("Consumer alerts published and text messages sent"),
              _year_header(_("Item"), report.year), _year_rows([report.alerts, *report.sms]))])


def _bureau_section(report: YearReport) -> Section:
    header = [_("Handled by"), _("Cases registered"), _("Cases closed"), _("On-time closure rate"),
              _("Mediation success rate"), _("Money recovered (yuan)"), _("Returns to the centre")]
    rows = [[b.name or _("centre"), b.received, b.closed, percent(b.closed_on_time), percent(b.mediation_success),
             b.recovered, b.returned] for b in report.by_bureau]
    return Section(_("Figures by bureau"), tables=[Table("year_bureau", _("Main figures by bureau"), header, rows)])


def _notes(report: YearReport) -> Section:
    return Section(_("Notes"), items=[
        _("Cases count on the day they were received; closures, outcomes and money recovered on the day the case "
          "was closed; ratings on the day they were given; returns and extension requests on the day they were made."),
        _("On-time decision rate: decisions (acceptance, verification, reply) made by their statutory deadline, out "
          "of all decisions made. On-time closure rate: cases closed within their handling deadline, out of the "
          "closed cases that had one. Mediation success rate: complaints settled, out of mediations ended "
          "(settled or terminated). Satisfaction: ratings of 4 or 5, out of all ratings."),
        _("“%(dash)s”: nothing to measure, or no base to compare with.", dash=DASH),
        _("Published under Order 121 art. 38 (statistical analysis and published reports). Figures come from the "
          "hotline's statistics, as of %(when)s.", when=report.generated_at.strftime("%Y-%m-%d %H:%M")),
    ])


def year_document(report: YearReport) -> Document:
    scope = report.bureau_name or _("the whole city (the centre and every bureau)")
    title = _("%(city)s 12315 hotline: statistical report for %(year)s", city=report.city, year=report.year)
    if report.bureau_name:
        title = _("%(bureau)s: 12315 statistical report for %(year)s", bureau=report.bureau_name, year=report.year)
    lines = [_("Period: 1 January to 31 December %(year)s", year=report.year), _("Scope: %(scope)s", scope=scope),
             _("Generated: %(when)s", when=report.generated_at.strftime("%Y-%m-%d %H:%M"))]
    if report.generated_at.year <= report.year:
        lines.append(_("The year is not over: figures up to the day the report was generated."))
    overview = Section(_("Overview"), paragraphs=_overview(report), tables=[
        Table("year_summary", _("Main figures"), _year_header(_("Figure"), report.year),
              _year_rows(report.indicators))])
    sections = [overview, _intake_section(report), _outcome_section(report), _quality_section(report),
                _outreach_section(report)]
    if report.by_bureau:
        sections.append(_bureau_section(report))
    sections.append(_notes(report))
    for number, section in enumerate(sections, 1):
        section.title = heading(number, section.title)
    return Document(title, lines, sections)


# --- writers -------------------------------------------------------------------------------------

def _md_cell(value) -> str:
    return cell_text(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(doc: Document) -> str:
    out = [f"# {doc.title}", ""]
    out += [f"- {line}" for line in doc.lines]
    for section in doc.sections:
        out += ["", f"## {section.title}", ""]
        for paragraph in section.paragraphs:
            out += [paragraph, ""]
        for table in section.tables:
            align = ("---:" if i >= table.numeric_from else "---" for i in range(len(table.header)))
            out += [f"**{table.title}**", "", "| " + " | ".join(_md_cell(h) for h in table.header) + " |",
                    "|" + "|".join(align) + "|"]
            out += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in table.rows]
            out.append("")
        out += [f"- {item}" for item in section.items]
    return "\n".join(out).rstrip() + "\n"


def to_html(doc: Document, nonce: str | None = None, links: dict | None = None, lang: str = "zh-CN") -> str:
    return render_template("stats/report_year.html", doc=doc, cell_text=cell_text, nonce=nonce, links=links or {},
                           lang=lang)


def _csv_value(value):
    if value is None:
        return DASH
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def to_csv(doc: Document) -> str:
    """UTF-8 text with a BOM (spreadsheet programs then read Chinese right): the title, then each table as a
    block: its title row, its header row, its rows and a blank row."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([doc.title])
    for line in doc.lines:
        writer.writerow([line])
    writer.writerow([])
    for section in doc.sections:
        for table in section.tables:
            writer.writerow([f"{section.title} · {table.title}"])
            writer.writerow(table.header)
            for row in table.rows:
                writer.writerow([_csv_value(v) for v in row])
            writer.writerow([])
    return buffer.getvalue()


def render_year(report: YearReport, fmt: str, **html_options) -> str:
    doc = year_document(report)
    if fmt == "md":
        return to_markdown(doc)
    if fmt == "html":
        return to_html(doc, **html_options)
    if fmt == "csv":
        return to_csv(doc)
    raise ValueError(f"unknown format {fmt!r}")
