"""Read side of reference data: answer-bank search, category and ground lists for the forms."""
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


def active_stations() -> list[Station]:
    return list(db.session.scalars(select(Station).where(Station.active).order_by(Station.code)))
