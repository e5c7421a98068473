"""Read side of reference data: answer-bank search, category and ground lists for the forms."""
import re
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from sqlalchemy import or_, select

from hotline.extensions import db
from hotline.reference.models import Answer, Category, Station, StatutoryGround

# The version a case falls back to when no rulebook covers its day of receipt (a bare database).
EARLIEST_VERSION = "order-20"


def search_answers(q: str, limit: int = 10) -> list[Answer]:
    query = select(Answer).where(Answer.active)
    for word in (q or "").split()[:5]:
        like = f"%{word.replace('%', '').replace('_', '')}%"
        # keywords is a JSON list; matching its text form is enough for a few hundred entries.
        query = query.where(or_(Answer.title.like(like), Answer.body.like(like),
                                db.cast(Answer.keywords, db.String).like(like)))
    return list(db.session.scalars(query.order_by(Answer.code).limit(limit)))


def categories_by_axis() -> dict[str, list[Category]]:
    rows = db.session.scalars(select(Category).order_by(Category.axis, Category.position))
    result: dict[str, list[Category]] = {"goods": [], "service": [], "issue": []}
    for row in rows:
        result.setdefault(row.axis, []).append(row)
    return result


@dataclass(frozen=True)
class CategoryChoice:
    """One category as the intake picker offers it: searchable by name, code or pinyin initials."""
    axis: str
    code: str
    name: str
    parent_name: str | None
    initials: str

    @property
    def path(self) -> str:
        return f"{self.parent_name} › {self.name}" if self.parent_name else self.name


@lru_cache(maxsize=4096)
def pinyin_initials(name: str) -> str:
    """乳制品 → "rzp", 3C数码 → "3csm": what operators type to find a category. Cached: pypinyin's
    dictionary lookup is slow compared to a page render, and names rarely change."""
    return re.sub(r"[^0-9a-z]", "", "".join(lazy_pinyin(name, style=Style.FIRST_LETTER)).lower())


def category_choices() -> dict[str, list[tuple[CategoryChoice, list[CategoryChoice]]]]:
    """Per axis, each top-level category with its children, in the pack's order."""
    result: dict[str, list[tuple[CategoryChoice, list[CategoryChoice]]]] = {"goods": [], "service": [], "issue": []}
    for axis, rows in categories_by_axis().items():
        names = {row.code: row.name for row in rows}
        groups: dict[str, tuple[CategoryChoice, list[CategoryChoice]]] = {}
        for row in rows:
            parent = names.get(row.parent_code) if row.parent_code else None
            choice = CategoryChoice(axis, row.code, row.name, parent, pinyin_initials(row.name))
            if row.parent_code and row.parent_code in groups:
                groups[row.parent_code][1].append(choice)
            else:
                groups[row.code] = (choice, [])
        result[axis] = list(groups.values())
    return result


def active_stations() -> list[Station]:
    return list(db.session.scalars(select(Station).where(Station.active).order_by(Station.code)))


def rulebook_version_of(case) -> str:
    """The rulebook version a case is handled under for its whole life: stored at registration,
    else computed from the day of receipt (DESIGN.md §3)."""
    if case.rulebook_version:
        return case.rulebook_version
    from hotline.deadlines.operations import rulebook_version_for  # the deadlines package imports cases
    return (rulebook_version_for(case.received_at) if case.received_at else None) or EARLIEST_VERSION


def grounds_for(case, purpose: str) -> list[StatutoryGround]:
    """The statutory grounds a case may cite for `purpose` (decline, terminate, report_decline,
    no_case): only those of its own rulebook version, in code order."""
    return list(db.session.scalars(select(StatutoryGround).where(
        StatutoryGround.version == rulebook_version_of(case), StatutoryGround.purpose == purpose,
        StatutoryGround.active).order_by(StatutoryGround.code)))


def ground_for(case, purpose: str, code: str | None) -> StatutoryGround | None:
    """One ground of the case's version, or None when the code is not one it may cite."""
    return db.session.scalar(select(StatutoryGround).where(
        StatutoryGround.version == rulebook_version_of(case), StatutoryGround.purpose == purpose,
        StatutoryGround.code == (code or ""), StatutoryGround.active))
