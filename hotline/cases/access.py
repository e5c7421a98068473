"""Who sees which cases: one rule, used by every page, endpoint and export."""
from sqlalchemy import false, true
from sqlalchemy.sql.elements import ColumnElement

from hotline.auth.models import User
from hotline.cases.models import Case

CAN_REGISTER = frozenset({"operator", "station", "supervisor", "admin"})
SEES_ALL = frozenset({"operator", "supervisor", "admin"})


def visible_to(user: User) -> ColumnElement[bool]:
    """A filter on Case: bureau staff see their bureau's cases, station staff their station's."""
    if user.role in SEES_ALL:
        return true()
    if user.role == "bureau" and user.bureau_id:
        return Case.bureau_id == user.bureau_id
    if user.role == "station" and user.station_id:
        return Case.station_id == user.station_id
    return false()


def can_see(user: User, case: Case) -> bool:
    if user.role in SEES_ALL:
        return True
    if user.role == "bureau":
        return user.bureau_id is not None and case.bureau_id == user.bureau_id
    if user.role == "station":
        return user.station_id is not None and case.station_id == user.station_id
    return False


def may_see_personal_data(user: User, case: Case) -> bool:
    """The handling bureau and the centre may see a caller's unmasked phone and ID number (each view
    is logged) and a named reporter's identity; others see them masked."""
    if user.role in ("supervisor", "admin"):
        return True
    return user.role == "bureau" and user.bureau_id is not None and case.bureau_id == user.bureau_id
