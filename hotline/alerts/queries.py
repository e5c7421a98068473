"""Read side of alerts and subscriptions: the region's districts, lists with pages."""
import math
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from hotline.alerts.models import ConsumerAlert
from hotline.extensions import db
from hotline.reference.models import Division
from hotline.reference.operations import read_pack


def districts() -> list[Division]:
    """The region's districts (the city's direct divisions: 铁东区, 海城市 ...), the choices of an
    alert's and a subscription's district."""
    cache = current_app.extensions.setdefault("hotline_alert_districts", {})
    region = current_app.config["REGION"]
    if region not in cache:
        cache[region] = read_pack(region)["region"]["division_code"]
    return list(db.session.scalars(select(Division).where(Division.parent_code == cache[region])
                                   .order_by(Division.code)))


def district_codes() -> set[str]:
    return {d.code for d in districts()}


def district_names() -> dict[str, str]:
    return {d.code: d.name for d in districts()}


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _paged(query, count_query, page: int, per_page: int, clamp: bool = True) -> Page:
    total = db.session.scalar(count_query) or 0
    if clamp:
        page = min(page, max(1, math.ceil(total / per_page)))
    items = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total, page, per_page)


def staff_alerts(page: int, per_page: int = 20, status: str | None = None) -> Page:
    query = select(ConsumerAlert)
    count = select(func.count(ConsumerAlert.id))
    if status:
        query, count = query.where(ConsumerAlert.status == status), count.where(ConsumerAlert.status == status)
    return _paged(query.order_by(ConsumerAlert.id.desc()), count, page, per_page)


def published_alerts(page: int, per_page: int = 10, clamp: bool = True) -> Page:
    """What the public sees: published alerts, newest first."""
    published = ConsumerAlert.status == "published"
    return _paged(select(ConsumerAlert).where(published).order_by(ConsumerAlert.published_at.desc(),
                                                                  ConsumerAlert.id.desc()),
                  select(func.count(ConsumerAlert.id)).where(published), page, per_page, clamp)


def published_alert(alert_id: int) -> ConsumerAlert | None:
    return db.session.scalar(select(ConsumerAlert).where(ConsumerAlert.id == alert_id,
                                                         ConsumerAlert.status == "published"))


def alert_json(alert: ConsumerAlert, names: dict[str, str] | None = None) -> dict:
    names = district_names() if names is None else names
    return {"id": alert.id, "title": alert.title, "body": alert.body, "sms_text": alert.sms_text,
            "district": alert.district, "district_name": names.get(alert.district) if alert.district else None,
            "categories": list(alert.categories or []), "status": alert.status,
            "created_at": alert.created_at.isoformat() if alert.created_at else None,
            "published_at": alert.published_at.isoformat() if alert.published_at else None,
            "withdrawn_at": alert.withdrawn_at.isoformat() if alert.withdrawn_at else None}
