"""Every statistics figure agrees with a direct count over the cases (issue #11, "Must show" 1; Order 121
art. 38: statistics that can be checked). A seeded random workload (tests/stats/workload.py) takes a few
thousand cases through the app's own operations; `Truth` below counts the same figures again in Python
from the ORM rows, written from the definitions (DESIGN.md §2 Statistics, hotline/stats/facts.py's
docstrings), never by calling facts.py or cells.py. The same checks then run after a full and a partial
rebuild, after every job ran twice, and (PostgreSQL) after concurrent refreshes.

HOTLINE_AGREEMENT_CASES (default 2000) and HOTLINE_AGREEMENT_SEED change the size and the seed."""
import math
import os
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, select, update

from hotline.auth.models import User
from hotline.cases.actions import ActionInput, take_action
from hotline.cases.models import Case, CaseEvent
from hotline.deadlines.models import CaseClock, ExtensionRequest
from hotline.deadlines.sweep import remind_before
from hotline.extensions import db
from hotline.outbox import relay
from hotline.outbox.models import OutboxJob
from hotline.portal.models import CaseRating
from hotline.portal.ratings import rate_case
from hotline.reference.models import Bureau
from hotline.stats import queries, refresh
from hotline.stats.models import StatBusinessMonth, StatDay, StatDirty, StatMonth, StatOpen
from hotline.stats.queries import Filters
from tests.stats.workload import BUSINESSES, SHANGHAI, SimClock, Workload, freeze_time

CASES = int(os.environ.get("HOTLINE_AGREEMENT_CASES", "2000"))
SEED = int(os.environ.get("HOTLINE_AGREEMENT_SEED", "20261125"))
# A fixed period in the past, so that a seed gives the same cases on any day: 14 months of receipts,
# across the change of rulebook (Order 20 → Order 121 on 2026-04-15).
START = datetime(2025, 9, 12, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)
END = datetime(2026, 11, 20, 15, 30, tzinfo=SHANGHAI).astimezone(UTC)

MEASURES = ("received", "online", "decided", "decided_on_time", "closed", "closed_timed", "closed_on_time",
            "recovered", "rated", "rating_sum", "satisfied", "returned", "extensions")
CLOSING = frozenset({"closed", "closed_timed", "closed_on_time", "recovered"})  # counted on the closing day
OPEN_STATUSES = ("registered", "triage", "pending", "accepted", "suspended", "verifying")
# The first decision (受理/初查/答复) of each kind is the meeting of its first clock here that the case has.
DECISION = {"complaint": ("complaint_decision",), "report": ("report_verification", "violation_verification"),
            "consultation": ("consultation_reply",), "suggestion": ("consultation_reply",)}
# A closed case is measured (按期办结) against the first of these clocks that it has.
CLOSING_CLOCK = {"complaint": ("mediation", "complaint_decision", "triage"),
                 "report": ("report_verification", "violation_verification", "triage"),
                 "consultation": ("consultation_reply", "triage"), "suggestion": ("consultation_reply", "triage")}
NOT_AGAINST_BUSINESS = ("declined", "withdrawn")  # art. 38 disclosure
ACTIONS = {"register", "route", "sweep", "rate", "assign", "return_to_centre", "transfer_out", "accept", "decline",
           "settle", "terminate", "suspend", "resume", "withdraw", "start_verification", "file_case", "no_case",
           "request_extension", "approve_extension", "refuse_extension", "extend", "answer", "refer_violation"}


def local_day(at: datetime) -> date:
    return at.astimezone(SHANGHAI).date()


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


# --- the direct count --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One case's contribution to one measure on one day: where it counts and how much."""
    measure: str
    day: date
    bureau: int
    kind: str
    channel: str
    category: str
    outcome: str  # the outcome on closing measures ("none" if unset), "" elsewhere
    value: int
    case_id: int


@dataclass
class CaseRow:
    id: int
    bureau: int
    kind: str
    channel: str
    category: str
    status: str
    overdue: bool
    outcome: str | None
    business_key: str | None
    business_name: str | None
    received_day: date
    accepted: bool


@dataclass
class Truth:
    """The figures counted straight from Case, CaseClock, CaseRating, CaseEvent and ExtensionRequest."""

    now: datetime
    cases: dict[int, CaseRow] = field(default_factory=dict)
    by_day: dict[date, list[Entry]] = field(default_factory=lambda: defaultdict(list))
    running: list[tuple[int, datetime]] = field(default_factory=list)  # (case, due) of unpaused open clocks
    waiting_extension: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, now: datetime) -> "Truth":
        truth = cls(now)
        clocks: dict[int, dict[str, CaseClock]] = defaultdict(dict)
        for clock in db.session.scalars(select(CaseClock)):
            clocks[clock.case_id][clock.clock] = clock
        ratings = {r.case_id: r for r in db.session.scalars(select(CaseRating))}
        bureau_by_code = dict(db.session.execute(select(Bureau.code, Bureau.id)).all())
        bureau_of_user = dict(db.session.execute(select(User.id, User.bureau_id)).all())
        accepted, returns = set(), defaultdict(list)
        for event in db.session.scalars(select(CaseEvent).where(
                CaseEvent.action.in_(("accept", "return_to_centre")))):
            if event.action == "accept":
                accepted.add(event.case_id)
            else:  # 退单 counts for the bureau that sent the case back, on the day it did
                returns[event.case_id].append((local_day(event.at),
                                               bureau_by_code.get((event.data or {}).get("bureau"), 0)))
        requests = defaultdict(list)
        for request in db.session.scalars(select(ExtensionRequest)):
            # 延期申请 counts for the bureau that asked (only a bureau's handler can), on the day it asked
            requests[request.case_id].append((local_day(request.requested_at),
                                              bureau_of_user.get(request.requested_by_id) or 0))
            if request.status == "pending":
                truth.waiting_extension.add(request.case_id)
        for case in db.session.scalars(select(Case)):
            truth._count(case, clocks[case.id], ratings.get(case.id), case.id in accepted, returns[case.id],
                         requests[case.id])
        return truth

    def _count(self, case: Case, clocks: dict, rating, accepted: bool, returns: list, requests: list) -> None:
        category = case.category_goods or case.category_service or ""
        bureau = case.bureau_id or 0
        row = CaseRow(case.id, bureau, case.kind, case.channel, category, case.status, bool(case.overdue),
                      case.outcome, case.business_key, case.business_name, local_day(case.received_at),
                      accepted)
        self.cases[case.id] = row

        def add(measure, day, value=1, at_bureau=bureau, outcome=""):
            if value:
                self.by_day[day].append(Entry(measure, day, at_bureau, case.kind, case.channel, category, outcome,
                                              int(value), case.id))

        add("received", row.received_day)
        add("online", row.received_day, bool(case.business_platform))
        decision = next((clocks[name] for name in DECISION[case.kind] if name in clocks), None)
        # a withdrawal before acceptance, a transfer out or a merge meets the clock but decides nothing
        no_decision = (case.status == "closed" and case.outcome in ("withdrawn", "transferred", "merged")
                       and decision is not None and decision.met_at is not None
                       and decision.met_at >= case.closed_at)
        if decision is not None and decision.met_at is not None and not no_decision:
            add("decided", local_day(decision.met_at))
            add("decided_on_time", local_day(decision.met_at), decision.met_at <= decision.due_at)
        if case.status == "closed":
            day, outcome = local_day(case.closed_at or case.received_at), case.outcome or "none"
            closing = next((clocks[name] for name in CLOSING_CLOCK[case.kind] if name in clocks), None)
            add("closed", day, outcome=outcome)
            add("closed_timed", day, closing is not None, outcome=outcome)
            add("closed_on_time", day, closing is not None and closing.met_at is not None
                and closing.met_at <= closing.due_at, outcome=outcome)
            add("recovered", day, int((case.recovered_amount or 0) * 100), outcome=outcome)
        else:
            for clock in clocks.values():
                if clock.met_at is None and clock.paused_at is None:
                    self.running.append((case.id, clock.due_at))
        if rating is not None:
            day, at = local_day(rating.rated_at), rating.bureau_id or bureau
            add("rated", day, at_bureau=at)
            add("rating_sum", day, rating.score, at_bureau=at)
            add("satisfied", day, rating.score >= 4, at_bureau=at)
        for day, at in returns:
            add("returned", day, at_bureau=at)
        for day, at in requests:
            add("extensions", day, at_bureau=at)

    # -- selections --

    @staticmethod
    def matches(f: Filters, bureau: int, kind: str, channel: str, category: str) -> bool:
        return ((f.bureau_id is None or bureau == f.bureau_id) and (not f.kind or kind == f.kind)
                and (not f.channel or channel == f.channel) and (not f.category or category.startswith(f.category)))

    def entries(self, f: Filters, start: date | None = None, end: date | None = None):
        day, end = start or f.start, end or f.end
        while day <= end:
            for e in self.by_day.get(day, ()):
                if self.matches(f, e.bureau, e.kind, e.channel, e.category):
                    yield e
            day += timedelta(days=1)

    def case_matches(self, f: Filters, row: CaseRow) -> bool:
        return self.matches(f, row.bureau, row.kind, row.channel, row.category)

    # -- figures --

    def totals(self, f: Filters) -> tuple[Counter, dict[str, dict]]:
        total: Counter = Counter()
        by: dict[str, dict] = {dim: defaultdict(Counter) for dim in ("kind", "channel", "bureau_id", "category",
                                                                     "outcome")}
        for e in self.entries(f):
            keys = {"kind": e.kind, "channel": e.channel, "bureau_id": e.bureau, "category": e.category,
                    "outcome": e.outcome}
            extra = {e.measure: e.value}
            if e.measure == "closed" and e.outcome in ("mediated", "terminated"):
                extra["mediation_ended"] = 1  # 调解成功率 = settled / mediation ended
                if e.outcome == "mediated":
                    extra["mediated"] = 1
            total.update(extra)
            for dim, key in keys.items():
                by[dim][key].update(extra)
        return total, by

    def trend(self, f: Filters, unit: str, measures) -> list[tuple[date, dict]]:
        per: dict[date, Counter] = defaultdict(Counter)
        for e in self.entries(f):
            # a month's bar counts the part of the month inside the range: the bars add up to the range's total
            per[e.day if unit == "day" else month_of(e.day)][e.measure] += e.value
        periods, step = [], f.start if unit == "day" else month_of(f.start)
        while step <= f.end:
            periods.append(step)
            step = step + timedelta(days=1) if unit == "day" else add_months(step, 1)
        return [(p, {m: per[p][m] for m in measures}) for p in periods]

    def intake_on(self, f: Filters, day: date) -> dict:
        kinds, channels = Counter(), Counter()
        for e in self.entries(f, day, day):
            if e.measure == "received":
                kinds[e.kind] += 1
                channels[e.channel] += 1
        return {"kind": dict(kinds), "channel": dict(channels), "total": sum(kinds.values())}

    def backlog(self, f: Filters) -> dict:
        result = {"open": 0, "overdue": 0, "by_status": Counter(), "by_kind": Counter(), "by_bureau": {}}
        for row in self.cases.values():
            if row.status == "closed" or not self.case_matches(f, row):
                continue
            result["open"] += 1
            result["overdue"] += row.overdue
            result["by_status"][row.status] += 1
            result["by_kind"][row.kind] += 1
            entry = result["by_bureau"].setdefault(row.bureau, {"open": 0, "overdue": 0})
            entry["open"] += 1
            entry["overdue"] += row.overdue
        return result

    def due_soon_cases(self, f: Filters) -> set[int]:
        until = remind_before(self.now)
        return {case_id for case_id, due in self.running if self.now < due <= until
                and self.case_matches(f, self.cases[case_id])}

    def extensions_waiting(self, f: Filters) -> set[int]:
        return {i for i in self.waiting_extension if self.case_matches(f, self.cases[i])}

    def business(self, months: list[date], bureau: int | None, kind: str | None,
                 strict: bool = False) -> dict[str, Counter]:
        """Per business key: received, counted (neither declined nor withdrawn), accepted, mediation_closed
        (settled or terminated), mediated (settled). `strict` (disclosure): only the cases that count
        against the business at all."""
        wanted, sums = set(months), defaultdict(Counter)
        for row in self.cases.values():
            if not row.business_key or month_of(row.received_day) not in wanted:
                continue
            if (bureau and row.bureau != bureau) or (kind and row.kind != kind):
                continue
            counted = row.outcome not in NOT_AGAINST_BUSINESS
            if strict and not counted:
                continue
            sums[row.business_key].update({"received": 1, "counted": counted, "accepted": row.accepted,
                                           "mediation_closed": row.outcome in ("mediated", "terminated"),
                                           "mediated": row.outcome == "mediated"})
        return sums

    def bureau_month(self, month: date) -> dict[int, Counter]:
        sums: dict[int, Counter] = defaultdict(Counter)
        for e in self.entries(Filters(month, add_months(month, 1) - timedelta(days=1))):
            sums[e.bureau][e.measure] += e.value
        return sums

    def figure(self, name: str, f: Filters) -> int:
        """The drill-down's count: cases, or events for returns and extension requests."""
        if name in ("open", "overdue"):
            return sum(1 for row in self.cases.values() if row.status != "closed" and self.case_matches(f, row)
                       and (name == "open" or row.overdue))
        if name == "due_soon":
            return len(self.due_soon_cases(f))
        if name == "extensions_waiting":
            return len(self.extensions_waiting(f))
        if name in ("returned", "extensions"):
            return sum(1 for e in self.entries(f) if e.measure == name)
        outcomes = {"mediated": ("mediated",), "mediation_ended": ("mediated", "terminated"),
                    "transferred": ("transferred",), "declined": ("declined",), "withdrawn": ("withdrawn",)}
        if name in outcomes:
            return len({e.case_id for e in self.entries(f) if e.measure == "closed" and e.outcome in outcomes[name]})
        return len({e.case_id for e in self.entries(f) if e.measure == name})


# --- comparing ---------------------------------------------------------------------------------------

def describe(f: Filters | None, codes: dict[int, str]) -> str:
    if f is None:
        return "-"
    parts = [f"{f.start}..{f.end}"]
    if f.bureau_id is not None:
        parts.append(f"bureau={codes.get(f.bureau_id, f.bureau_id) if f.bureau_id else 'none'}")
    parts += [f"{name}={getattr(f, name)}" for name in ("kind", "channel", "category") if getattr(f, name)]
    return " ".join(parts)


def nonzero(mapping) -> dict:
    """A mapping without its zero entries (a rollup row may sum to zero after a case moved on)."""
    result = {}
    for key, value in dict(mapping).items():
        if isinstance(value, dict | Counter):
            value = nonzero(value)
        if value:
            result[key] = value
    return result


def close(a, b) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def differences(expected, got, path: str = "") -> list[tuple[str, object, object]]:
    """The leaves where two nested dicts (or lists of (period, dict) pairs) differ, with their paths."""
    if isinstance(expected, list) and isinstance(got, list) and all(isinstance(x, tuple) for x in expected + got):
        expected, got = dict(expected), dict(got)
    if not (isinstance(expected, dict) and isinstance(got, dict)):
        return [] if expected == got else [(path or "value", expected, got)]
    found = []
    for key in sorted(set(expected) | set(got), key=str):
        found += differences(expected.get(key, 0), got.get(key, 0), f"{path}.{key}" if path else str(key))
    return found


class Checker:
    """Runs every check and collects each disagreement as (figure, filter, expected, got)."""

    def __init__(self, truth: Truth, filters: list[Filters], codes: dict[int, str]):
        self.truth, self.filters, self.codes = truth, filters, codes
        self.diffs: list[tuple[str, str, object, object]] = []
        self.checked = 0

    def same(self, figure: str, f: Filters | None, expected, got) -> None:
        self.checked += 1
        if expected != got:
            self.diffs.append((figure, describe(f, self.codes), expected, got))

    def report(self, phase: str) -> str:
        """Which figures disagree, how often, then a few examples of each: figure, filter, expected, got."""
        kinds = Counter(figure.split("(")[0] for figure, *_ in self.diffs)
        lines = [f"{phase}: {len(self.diffs)} of {self.checked} checks disagree with the direct count: "
                 + ", ".join(f"{figure} ×{n}" for figure, n in sorted(kinds.items()))]
        shown: Counter = Counter()
        for figure, where, expected, got in self.diffs:
            shown[figure.split("(")[0]] += 1
            if shown[figure.split("(")[0]] > 3:
                continue
            lines.append(f"  {figure} [{where}]")
            if isinstance(expected, dict | list) and isinstance(got, dict | list):
                lines += [f"      {path}: expected {e!r}, got {g!r}" for path, e, g in differences(expected, got)[:8]]
            else:
                lines.append(f"      expected {expected!r}, got {got!r}")
        return "\n".join(lines)

    # -- dashboard --

    def totals(self, f: Filters) -> None:
        got = queries.totals(f)
        total, by = self.truth.totals(f)

        def measures(m) -> dict:
            values = {k: v for k, v in m.values.items() if v}
            values.update({k: v for k, v in (("mediated", m.mediated), ("mediation_ended", m.mediation_ended)) if v})
            return values

        self.same("totals.total", f, nonzero(total), measures(got.total))
        for dim, expected in by.items():
            self.same(f"totals.by[{dim}]", f, nonzero(expected),
                      nonzero({key: measures(m) for key, m in got.by[dim].items()}))
        rates = {"decided_on_time": ("decided_on_time", "decided"),
                 "closed_on_time": ("closed_on_time", "closed_timed"),
                 "mediated": ("mediated", "mediation_ended"), "satisfied": ("satisfied", "rated"),
                 "mean_rating": ("rating_sum", "rated"), "online": ("online", "received")}
        for name, (part, whole) in rates.items():
            expected = total[part] / total[whole] if total[whole] else None
            if not close(expected, got.total.rates[name]):
                self.same(f"totals.rates[{name}]", f, expected, got.total.rates[name])
            else:
                self.checked += 1

    def trend(self, f: Filters) -> None:
        unit, got = queries.trend(f, MEASURES)
        expected_unit = "day" if f.days <= queries.DAILY_TREND_DAYS else "month"
        self.same("trend.unit", f, expected_unit, unit)
        self.same(f"trend[{unit}]", f, self.truth.trend(f, expected_unit, MEASURES), got)

    def today(self, f: Filters) -> None:
        self.same("today_intake", f, self.truth.intake_on(f, local_day(self.truth.now)), queries.today_intake(f))

    def backlog(self, f: Filters) -> None:
        got = queries.backlog(f)
        expected = nonzero(self.truth.backlog(f))
        self.same("backlog", f, expected, nonzero({"open": got.open, "overdue": got.overdue, "by_status": got.by_status,
                                                   "by_kind": got.by_kind, "by_bureau": got.by_bureau}))
        self.same("due_soon", f, len(self.truth.due_soon_cases(f)), queries.due_soon(f, self.truth.now))
        self.same("extensions_waiting", f, len(self.truth.extensions_waiting(f)), queries.extensions_waiting(f))

    def queue(self) -> None:
        day = local_day(self.truth.now)
        f = Filters(day, day)
        backlog = self.truth.backlog(f)
        bureaus = {b.id: b for b in db.session.scalars(select(Bureau))}
        by_bureau = [{"code": bureaus[i].code if i else None, "name": bureaus[i].name if i else None, **entry}
                     for i, entry in sorted(backlog["by_bureau"].items(), key=lambda kv: self.codes.get(kv[0], ""))]
        by_status = dict(sorted(backlog["by_status"].items()))
        due_soon = len(self.truth.due_soon_cases(f))
        expected = {"open": backlog["open"], "overdue": backlog["overdue"], "due_soon": due_soon,
                    "by_status": by_status, "by_bureau": by_bureau, "today": self.truth.intake_on(f, day)}
        self.same("queue_stats", None, expected, queries.queue_stats())

    def top_businesses(self, start: date, end: date, bureau_id: int | None, kind: str | None) -> None:
        months = queries.months_of(start, end)
        sums = self.truth.business(months, bureau_id, kind)
        where = Filters(start, end, bureau_id=bureau_id, kind=kind)
        for measure in ("received", "counted"):
            everyone = {key: c[measure] for key, c in sums.items() if c[measure] > 0}
            for n in (1, 5, 10, len(everyone) + 5):
                got = queries.top_businesses(start, end, bureau_id=bureau_id, kind=kind, n=n, measure=measure)
                label = f"top_businesses({measure}, n={n})"
                listed = {row.key: (row.received, row.counted) for row in got}
                self.same(label + " counts", where, {k: (sums[k]["received"], sums[k]["counted"]) for k in listed},
                          listed)
                self.same(label + " length", where, min(n, len(everyone)), len(got))
                values = [getattr(row, measure) for row in got]
                self.same(label + " order", where, sorted(values, reverse=True), values)
                if got:
                    beaten = {k: v for k, v in everyone.items() if k not in listed and v > values[-1]}
                    self.same(label + " nobody left out has more", where, {}, beaten)
                if n > len(everyone):
                    self.same(label + " lists every business", where, set(everyone), set(listed))

    # -- scoreboard and disclosure (written by another helper: checked once they exist) --

    def scoreboard(self, month: date) -> None:
        module = _optional("hotline.stats.scoreboard")
        if module is None:
            return
        expected = self.truth.bureau_month(month)
        fields = ("received", "returned", "decided", "decided_on_time", "closed_timed", "closed_on_time", "rated",
                  "satisfied", "rating_sum", "extensions")
        rows = module.scoreboard(month)
        active = set(db.session.scalars(select(Bureau.id).where(Bureau.active)))
        self.same("scoreboard bureaus", Filters(month, month), active, {row.bureau_id for row in rows})
        for row in rows:
            self.same(f"scoreboard[{self.codes.get(row.bureau_id)}]", Filters(month, month),
                      {name: expected[row.bureau_id][name] for name in fields},
                      {name: getattr(row, name) for name in fields})

    def disclosure(self) -> None:
        module = _optional("hotline.stats.disclosure")
        if module is None:
            return
        today = local_day(self.truth.now)
        months = [add_months(month_of(today), -i) for i in range(11, -1, -1)]
        self.same("disclosure.window", None, months, module.window(today))
        threshold = module.rule().threshold
        sums = self.truth.business(months, None, "complaint", strict=True)
        disclosed = {key: c for key, c in sums.items() if c["counted"] >= threshold}
        fields = ("counted", "accepted", "mediation_closed", "mediated")
        listing = module.listing(per_page=1000, today=today)
        got = {row.key: {name: getattr(row, name) for name in fields} for row in listing.items}
        where = Filters(months[0], today, kind="complaint")
        self.same(f"disclosure.listing[threshold {threshold}]", where,
                  {key: {name: c[name] for name in fields} for key, c in disclosed.items()}, got)
        self.same("disclosure.listing total", where, len(disclosed), listing.total)
        counted = [row.counted for row in listing.items]
        self.same("disclosure.listing order", where, sorted(counted, reverse=True), counted)
        for key in sorted(sums)[:40]:
            row = module.business(key, today=today)
            expected = {name: sums[key][name] for name in fields} if key in disclosed else None
            self.same(f"disclosure.business({key})", where, expected,
                      {name: getattr(row, name) for name in fields} if row is not None else None)
        # A search by another spelling finds the business; an excluded business is not disclosed at all.
        key = "n:鞍山华联超市"
        if key in disclosed:
            found = {row.key for row in module.listing(q="鞍山 华联", per_page=1000, today=today).items}
            self.same("disclosure.listing(q='鞍山 华联')", where, {key}, found & {key})
            module.exclude(key, "agreement test", "tester")
            self.same("disclosure.listing after exclusion", where, set(disclosed) - {key},
                      {row.key for row in module.listing(per_page=1000, today=today).items})
            self.same("disclosure.business(excluded)", where, None, module.business(key, today=today))
            module.include(key, "tester")
            db.session.commit()

    def figures(self, f: Filters) -> None:
        module = _optional("hotline.stats.figures")
        if module is None:
            return
        for name in module.FIGURES:
            self.same(f"figures.count({name})", f, self.truth.figure(name, f), module.count(name, f, self.truth.now))

    # -- all of it --

    def run(self, with_figures: bool) -> None:
        for f in self.filters:
            self.totals(f)
            self.backlog(f)
            if f.days <= 400:
                self.trend(f)
        for f in self.filters[::4]:
            self.today(f)
        self.queue()
        first, last = local_day(START), local_day(END)
        for start, end, bureau_id, kind in ((first, last, None, None), (month_of(last), last, None, None),
                                            (date(2026, 3, 9), date(2026, 6, 2), None, "complaint"),
                                            (first, last, self._bureau(1), None),
                                            (date(2026, 1, 1), date(2026, 9, 30), self._bureau(3), "report")):
            self.top_businesses(start, end, bureau_id, kind)
        month = month_of(first)
        while month <= last:
            self.scoreboard(month)
            month = add_months(month, 1)
        self.disclosure()
        if with_figures:
            for f in self.filters[::2]:
                self.figures(f)

    def _bureau(self, index: int) -> int:
        return sorted(self.codes)[index]


def _optional(name: str):
    """Another helper's module, once it exists (pytest.importorskip would skip the whole test)."""
    try:
        return __import__(name, fromlist=["_"])
    except ImportError:
        return None


def filter_set(codes: dict[int, str]) -> list[Filters]:
    first, last = local_day(START), local_day(END)
    bureaus = sorted(codes)
    ranges = [(first, last),  # the whole period
              (date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 4, 1), date(2026, 6, 30)),  # whole months
              (date(2025, 12, 17), date(2026, 3, 4)), (date(2026, 4, 14), date(2026, 4, 16)),  # partial months
              (date(2026, 2, 17), date(2026, 2, 17)), (last, last),  # one day (a holiday; the last)
              (last - timedelta(days=29), last),  # the dashboard's default: the last 30 days
              (date(2026, 5, 3), date(2026, 8, 2)), (date(2026, 5, 3), date(2026, 8, 3)),  # 92 and 93 days
              (date(2025, 10, 20), date(2026, 7, 9))]
    dims = [{}, {"bureau_id": bureaus[0]}, {"bureau_id": bureaus[4]}, {"bureau_id": 0}, {"kind": "complaint"},
            {"kind": "report"}, {"kind": "consultation"}, {"channel": "phone"}, {"channel": "station"},
            {"category": "G01"}, {"category": "S0301"}, {"kind": "complaint", "bureau_id": bureaus[1],
                                                         "category": "S"}]
    return [Filters(a, b, **d) for a, b in ranges for d in dims]


# --- the test ----------------------------------------------------------------------------------------

def rollups() -> dict:
    """Every non-zero rollup cell (business names aside: they follow the latest spelling counted)."""
    tables = {}
    for model in (StatDay, StatMonth, StatOpen, StatBusinessMonth):
        columns = [c for c in model.__table__.columns if c.name != "business_name"]
        keys = [c for c in columns if c.primary_key]
        values = [c for c in columns if not c.primary_key]
        tables[model.__tablename__] = {
            tuple(row[: len(keys)]): tuple(row[len(keys):])
            for row in db.session.execute(select(*keys, *values)) if any(row[len(keys):])}
    return tables


def check(phase: str, truth: Truth, codes: dict[int, str], failures: list[str], with_figures: bool = False) -> None:
    """Run every check; a phase that disagrees is reported at the end, so that the later phases run too."""
    db.session.expire_all()
    began, cpu = time.monotonic(), time.process_time()
    checker = Checker(truth, filter_set(codes), codes)
    checker.run(with_figures)
    print(f"{phase}: {checker.checked} checks in {time.monotonic() - began:.1f} s "
          f"({time.process_time() - cpu:.1f} s CPU)")  # shown with -s
    if checker.diffs:
        failures.append(checker.report(phase))


def check_business_keys() -> None:
    """The pool's spellings (full-width, spaces, case) of one business share one key; businesses differ."""
    spelling = {name: i for i, b in enumerate(BUSINESSES) for name in b.spellings}
    keys = defaultdict(set)
    for name, key in db.session.execute(select(Case.business_name, Case.business_key)):
        if name in spelling:
            keys[spelling[name]].add(key)
    assert all(len(found) == 1 for found in keys.values()), keys
    assert len({next(iter(found)) for found in keys.values()}) == len(keys)


def redeliver_jobs() -> int:
    """Every outbox job that ran runs once more, as a redelivered message would (tests/outbox). The workload
    ran the routing jobs; a sample of the SMS jobs runs first (they change no case: all of them would only
    cost time)."""
    for job_id in db.session.scalars(select(OutboxJob.id).where(OutboxJob.done_at.is_(None),
                                                                 OutboxJob.task == "send_sms")
                                     .order_by(OutboxJob.id).limit(60)).all():
        relay.execute_job(job_id)
    done = list(db.session.scalars(select(OutboxJob.id).where(OutboxJob.done_at.is_not(None))))
    db.session.execute(update(OutboxJob).where(OutboxJob.id.in_(done)).values(done_at=None))
    db.session.commit()
    for job_id in done:
        relay.execute_job(job_id)
    return len(done)


def refresh_concurrently(app, case_ids: list[int], rounds: int = 3) -> None:
    """Two workers, each with its own app context and connection, recount overlapping cases at once."""
    errors = []

    def worker(ids: list[int], barrier: threading.Barrier, use_drain: bool) -> None:
        with app.app_context():
            try:
                barrier.wait()
                if use_drain:
                    refresh.drain(batch=97)
                refresh.refresh(ids)
                db.session.commit()
                refresh.drain(batch=211)
            except Exception as exc:  # reported below, in the test's thread
                errors.append(exc)
            finally:
                db.session.remove()

    for round_ in range(rounds):
        refresh.mark_dirty(case_ids)
        db.session.commit()
        half = len(case_ids) // 2
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=worker, args=(case_ids[: half + 300], barrier, round_ % 2 == 0)),
                   threading.Thread(target=worker, args=(case_ids[half - 300:][::-1], barrier, True))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors


def test_every_figure_agrees_with_a_direct_count(app, monkeypatch):
    clock = SimClock(START)
    freeze_time(monkeypatch, clock)
    began, cpu = time.monotonic(), time.process_time()
    workload = Workload(random.Random(SEED), clock, START, END, CASES)
    tally = workload.run()
    print(f"workload: {CASES} cases in {time.monotonic() - began:.1f} s ({time.process_time() - cpu:.1f} s CPU): "
          f"{tally.actions}")
    assert ACTIONS <= set(tally.actions), f"the workload missed {sorted(ACTIONS - set(tally.actions))}"
    refresh.drain()
    codes = dict(db.session.execute(select(Bureau.id, Bureau.code)).all())
    check_business_keys()
    truth = Truth.load(END)
    failures: list[str] = []
    check("live (refreshed by drain)", truth, codes, failures, with_figures=True)

    # Every job twice: recounts, re-marks and redelivered outbox jobs change nothing.
    before = rollups()
    ids = sorted(truth.cases)
    for _ in range(2):
        refresh.refresh(ids)
        db.session.commit()
    for _ in range(2):
        refresh.mark_dirty(ids)
        db.session.commit()
        refresh.drain()
    assert redeliver_jobs() > 0
    refresh.drain()
    assert rollups() == before
    check("after every job ran twice", truth, codes, failures)

    assert refresh.rebuild() == len(ids)
    assert rollups() == before
    check("after a full rebuild", truth, codes, failures)

    # Changes the counting never heard of (their marks lost): a rebuild from a date recounts those cases.
    since = date(2026, 7, 1)
    rated = set(db.session.scalars(select(CaseRating.case_id)))
    late = [db.session.get(Case, row.id) for row in truth.cases.values()
            if row.received_day >= since and row.status == "closed" and row.id not in rated][:25]
    for case in late:
        rate_case(case, 3, None, None, END)
    db.session.commit()
    db.session.execute(delete(StatDirty))
    db.session.commit()
    assert refresh.rebuild(start=since) == len(late)
    truth = Truth.load(END)
    check("after rebuild(start=2026-07-01)", truth, codes, failures)

    if db.engine.dialect.name == "postgresql":
        before = rollups()
        refresh_concurrently(app, ids)
        assert rollups() == before
        check("after concurrent refreshes", truth, codes, failures)
    assert not failures, "\n\n".join(failures)


# --- the disagreements the randomized test found, one case each ----------------------------------------

def _act(case: Case, user, action: str, **fields) -> None:
    take_action(case, user, ActionInput(action=action, **fields))
    db.session.commit()


def test_an_extension_request_counts_for_the_bureau_that_asked(make_case, make_user):
    """延期申请 is an act of the bureau that asked, like a return (退单): it stays that bureau's figure when
    the case later moves to another bureau."""
    tiexi, centre = make_user("bureau", bureau="tiexi"), make_user("supervisor")
    make_user("bureau", bureau="tiedong")
    case = make_case(kind="report").case
    relay.run_pending()  # routed to 铁西
    db.session.refresh(case)
    _act(case, tiexi, "request_extension", reason="案情复杂")
    _act(case, tiexi, "return_to_centre", reason="不属于本局管辖")
    _act(case, centre, "assign", bureau="tiedong")
    refresh.drain()
    today = queries.today()
    by_bureau = queries.totals(Filters(today, today)).by["bureau_id"]
    assert by_bureau[tiexi.bureau_id]["extensions"] == 1
    assert sum(m["extensions"] for bureau_id, m in by_bureau.items() if bureau_id != tiexi.bureau_id) == 0


def test_a_monthly_trend_counts_only_the_days_inside_the_range(make_case):
    """A range longer than 92 days trends by month; its first and last bars must not count the days of
    those months outside the range, or the bars add up to more than the range's total."""
    make_case(received_at="2026-06-10T10:00:00+08:00", occurred_on="2026-06-01")
    make_case(received_at="2026-09-20T10:00:00+08:00", occurred_on="2026-09-01")
    refresh.drain()
    f = Filters(date(2026, 6, 15), date(2026, 9, 16))
    unit, points = queries.trend(f)
    assert unit == "month"
    assert queries.totals(f).total["received"] == 0
    assert sum(values["received"] for _, values in points) == 0


def test_a_complaint_withdrawn_after_acceptance_is_not_disclosed_as_accepted(make_case, make_user):
    """Declined and withdrawn complaints do not count against a business (art. 38 disclosure): not in
    `counted`, and not in `accepted` either, or a business shows more complaints accepted than counted."""
    disclosure = _optional("hotline.stats.disclosure")
    if disclosure is None:
        return
    handler, operator = make_user("bureau", bureau="tiexi"), make_user("operator")
    cases = [make_case().case for _ in range(6)]
    relay.run_pending()
    for case in cases:
        db.session.refresh(case)
        _act(case, handler, "accept")
    _act(cases[-1], operator, "withdraw")
    refresh.drain()
    row = disclosure.business(cases[0].business_key)
    assert (row.counted, row.accepted) == (5, 5)
