"""Read side of reference data: answer-bank search, category and ground lists for the forms."""
import re
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin
from sqlalchemy import or_, select

from hotline.extensions import db
from hotline.reference.models import Answer, Category, Station


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
