"""The rulebook and the calendar overrides as every clock reads them: each intake starts a clock, so
both are cached per process and dropped when an administrator changes them (hotline/reference/cache.py).
The administration pages and the region pack read and write the rows themselves (operations.py)."""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from hotline.deadlines import calendar
from hotline.deadlines.models import CalendarDay, CalendarYear, DeadlineRule
from hotline.extensions import db
from hotline.reference.cache import cached


@dataclass(frozen=True)
class Rule:
    """One clock's period in one rulebook version, as a clock is started and extended with it."""
    version: str
    clock: str
    length: int
    unit: str
    extension: int


@dataclass(frozen=True)
class Rulebook:
    versions: tuple[tuple[date, str], ...]  # (effective from, version), the latest first
    rules: dict[tuple[str, str], Rule]

    def version_on(self, day: date) -> str | None:
        """The version in force on `day`: the latest to take effect on or before it."""
        return next((version for effective_from, version in self.versions if effective_from <= day), None)

    def rule(self, version: str, clock: str) -> Rule | None:
        return self.rules.get((version, clock))

    @property
    def earliest(self) -> date | None:
        return self.versions[-1][0] if self.versions else None


def _load_rulebook() -> Rulebook:
    rows = db.session.scalars(select(DeadlineRule)).all()
    versions = tuple(sorted({(row.effective_from, row.version) for row in rows}, reverse=True))
    rules = {(r.version, r.clock): Rule(r.version, r.clock, r.length, r.unit or "working", r.extension or 0)
             for r in rows}
    return Rulebook(versions, rules)


def rulebook() -> Rulebook:
    return cached("rulebook", _load_rulebook)


def _load_overrides() -> calendar.Overrides:
    return calendar.Overrides({row.day: row.kind for row in db.session.scalars(select(CalendarDay))},
                              db.session.scalars(select(CalendarYear.year)))


def overrides() -> calendar.Overrides:
    """The imported days and the years marked complete (shared: never change the mapping returned)."""
    return cached("calendar", _load_overrides)
