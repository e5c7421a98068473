"""Periods under Order 121 art. 45 and every row of DESIGN.md's deadline table under both versions."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.deadlines.calendar import add_days, add_natural_days, days_between, due_at
from hotline.deadlines.models import DeadlineRule
from hotline.extensions import db

TZ = "Asia/Shanghai"


# --- natural days (日): the start day is not counted; a last day that is not a working day moves on --------

@pytest.mark.parametrize("start, days, last, why", [
    (date(2026, 9, 21), 10, date(2026, 10, 8), "day 10 is 10-01, National Day: the holiday runs to 10-07"),
    (date(2026, 11, 20), 1, date(2026, 11, 23), "day 1 is Saturday 11-21, an ordinary weekend"),
    (date(2026, 10, 3), 7, date(2026, 10, 10), "day 7 is Saturday 10-10, a make-up working day: it stays"),
    (date(2026, 2, 7), 7, date(2026, 2, 14), "day 7 is Saturday 02-14, a make-up working day: it stays"),
    (date(2026, 11, 2), 3, date(2026, 11, 5), "day 3 is Thursday 11-05, a plain weekday"),
    (date(2026, 5, 6), 60, date(2026, 7, 6), "DESIGN's worked example: day 60 is Sunday 07-05"),
    (date(2026, 2, 10), 5, date(2026, 2, 24), "day 5 is 02-15, Spring Festival: the holiday runs to 02-23"),
])
def test_natural_day_period_ends_where_article_45_says(start, days, last, why):
    assert add_natural_days(start, days) == last, why
    assert add_days(start, days, "natural") == last


def test_holidays_inside_a_natural_period_are_counted():
    # 2026-09-29 + 10 natural days is 10-09 (a Friday, a working day): the National Day holiday counts.
    assert add_natural_days(date(2026, 9, 29), 10) == date(2026, 10, 9)
    assert add_days(date(2026, 9, 29), 10, "working") == date(2026, 10, 19)


def test_an_imported_override_moves_a_natural_last_day():
    # An administrator's holiday on a plain Thursday: the period ends on Friday instead.
    assert add_natural_days(date(2026, 11, 2), 3, {date(2026, 11, 5): "holiday"}) == date(2026, 11, 6)
    # An imported make-up Sunday keeps the last day where it falls.
    assert add_natural_days(date(2026, 11, 1), 7, {date(2026, 11, 8): "workday"}) == date(2026, 11, 8)


def test_due_at_ends_at_24_00_of_the_last_day_in_either_unit():
    received = datetime(2026, 5, 6, 10, tzinfo=ZoneInfo(TZ))
    last, end, fallback = due_at(received, 60, TZ, unit="natural")
    assert last == date(2026, 7, 6) and end.astimezone(ZoneInfo(TZ)) == datetime(2026, 7, 7, tzinfo=ZoneInfo(TZ))
    assert not fallback
    last, _end, _fallback = due_at(datetime(2026, 9, 29, 10, tzinfo=ZoneInfo(TZ)), 7, TZ)  # working by default
    assert last == date(2026, 10, 14)  # DESIGN's worked example: 9-30, 10-8, 10-9, Sat 10-10, 10-12, 10-13, 10-14


def test_days_between_counts_a_pause_in_the_clock_unit():
    assert days_between(date(2026, 5, 20), date(2026, 5, 30), "natural") == 10
    assert days_between(date(2026, 5, 20), date(2026, 5, 30), "working") == 7  # 21, 22, 25..29
    assert days_between(date(2026, 5, 30), date(2026, 5, 20), "natural") == 0


def test_an_unknown_unit_is_refused():
    with pytest.raises(ValueError):
        add_days(date(2026, 5, 6), 3, "fortnights")


# --- the rulebook as loaded from the Anshan pack: DESIGN.md §2's table, row by row --------------------------

TABLE = {
    # clock: (Order 121 (length, extension, unit, starts, article), Order 20 (...)); None: the version has none
    "complaint_decision": ((7, 0, "working", "receipt", "第121号第15条"), (7, 0, "working", "receipt", "第20号第14条")),
    "mediation": ((60, 0, "natural", "acceptance", "第121号第23条第1款第（五）项"),
                  (45, 0, "working", "acceptance", "第20号第21条第（五）项")),
    "mediation_notice": ((7, 0, "working", "termination", "第121号第23条第2款"),
                         (7, 0, "working", "termination", "第20号第21条")),
    "violation_verification": ((15, 15, "working", "finding", "第121号第27条"),
                               (15, 15, "working", "finding", "第20号第23条")),
    "report_verification": ((15, 15, "working", "receipt", "程序规定》第18条"),
                            (15, 15, "working", "receipt", "程序规定》第18条")),
    "reporter_notice": (None, (5, 0, "working", "decision", "第20号第31条")),
    "jurisdiction_dispute": ((7, 0, "working", "dispute", "第121号第33条"),
                             (7, 0, "working", "dispute", "第20号第30条")),
    "triage": ((1, 0, "working", "triage", "本地规定"), (1, 0, "working", "triage", "本地规定")),
    "consultation_reply": ((3, 0, "working", "receipt", "本地规定"), (3, 0, "working", "receipt", "本地规定")),
}


def rules_of(version: str) -> dict[str, DeadlineRule]:
    return {r.clock: r for r in db.session.scalars(select(DeadlineRule).where(DeadlineRule.version == version))}


@pytest.mark.parametrize("clock", sorted(TABLE))
@pytest.mark.parametrize("version, column", [("order-121", 0), ("order-20", 1)])
def test_every_row_of_the_deadline_table(app, clock, version, column):
    want = TABLE[clock][column]
    rule = rules_of(version).get(clock)
    if want is None:
        assert rule is None, f"{version} has no {clock} (Order 121 art. 36)"
        return
    length, extension, unit, starts, article = want
    assert (rule.length, rule.extension, rule.unit, rule.starts) == (length, extension, unit, starts)
    assert article in rule.basis and rule.verified


def test_the_versions_take_effect_as_published(app):
    assert {r.effective_from for r in rules_of("order-20").values()} == {date(2020, 1, 1)}
    assert {r.effective_from for r in rules_of("order-121").values()} == {date(2026, 4, 15)}
    assert set(rules_of("order-121")) == {c for c, (new, _old) in TABLE.items() if new}
    assert set(rules_of("order-20")) == set(TABLE)


def test_mediation_basis_names_what_is_not_counted(app):
    basis = rules_of("order-121")["mediation"].basis
    assert "第22条" in basis and "第21条" in basis and "第45条" in basis
