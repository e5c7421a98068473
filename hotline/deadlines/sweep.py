"""The deadline sweep (Celery beat every few minutes, or `hotline sweep`): remind the handler a set
number of working days before a due date, escalate an overdue clock to the supervisors.

Each reminder and escalation is claimed with one conditional UPDATE ... RETURNING on the clock
(`reminded_at IS NULL`), so however often and however concurrently the sweep runs, a clock is
claimed once; the notification's unique key backs that up. Both queries read partial indexes of
the clocks still waiting, so a sweep costs what is due, not what is open."""
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from hotline.cases.models import Case, CaseEvent
from hotline.deadlines import calendar
from hotline.deadlines.models import CaseClock, Notification
from hotline.deadlines.operations import calendar_overrides
from hotline.extensions import db
from hotline.stats.refresh import mark_dirty
from hotline.types import utcnow

BATCH = 5000


@dataclass
class SweepResult:
    reminders: int = 0
    escalations: int = 0

    def __str__(self) -> str:
        return f"{self.reminders} reminders, {self.escalations} escalations"


def remind_before(now: datetime) -> datetime:
    """Clocks due by this instant are within the reminder window (N working days, default 2)."""
    days = current_app.config["REMINDER_WORKING_DAYS"]
    return calendar.due_at(now, days, current_app.config["TIMEZONE"], calendar_overrides())[1]


def _claim(column, due_by: datetime, now: datetime) -> list:
    """Mark up to BATCH waiting clocks as handled and return them (id, case_id, clock, due_at)."""
    waiting = (select(CaseClock.id).where(CaseClock.met_at.is_(None), column.is_(None), CaseClock.due_at <= due_by)
               .order_by(CaseClock.due_at).limit(BATCH))
    if db.engine.dialect.name == "postgresql":
        waiting = waiting.with_for_update(skip_locked=True)  # a concurrent sweep takes the others
        # = ANY(ARRAY(...)): the planner looks the claimed ids up by primary key; with IN (...) it
        # chose a hash join over a scan of every clock (bench/sweep.py, 1M clocks).
        claimed = CaseClock.id == func.any(func.array(waiting.scalar_subquery()))
    else:
        claimed = CaseClock.id.in_(waiting.scalar_subquery())
    stmt = (update(CaseClock).where(claimed, column.is_(None))
            .values({column.key: now})
            .returning(CaseClock.id, CaseClock.case_id, CaseClock.clock, CaseClock.due_at))
    return db.session.execute(stmt, execution_options={"synchronize_session": False}).all()


def _new_notifications():
    """INSERT of notifications that skips one already made for the same clock, kind and due date: a clock
    restarted with the due date it had (a case returned to the centre twice in a day) was reminded of it
    already, and a unique violation here would stop the sweep for good."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(Notification).on_conflict_do_nothing(index_elements=["clock_id", "kind", "due_at"])


def _handlers(case_ids: list[int]) -> dict[int, tuple[int | None, int | None]]:
    rows = db.session.execute(select(Case.id, Case.assignee_id, Case.bureau_id).where(Case.id.in_(case_ids)))
    return {case_id: (assignee, bureau) for case_id, assignee, bureau in rows}


def sweep(now: datetime | None = None) -> SweepResult:
    now = now or utcnow()
    result = SweepResult()
    while claimed := _claim(CaseClock.reminded_at, remind_before(now), now):
        owners = _handlers([row.case_id for row in claimed])
        db.session.execute(_new_notifications(), [
            {"kind": "reminder", "clock_id": row.id, "case_id": row.case_id, "clock": row.clock, "due_at": row.due_at,
             "user_id": owners[row.case_id][0], "bureau_id": None if owners[row.case_id][0] else owners[row.case_id][1],
             "created_at": now} for row in claimed])
        from hotline.sms.reminders import queue_reminders
        queue_reminders(claimed, owners)  # and by SMS, to a handler who opted in (same transaction)
        db.session.commit()
        result.reminders += len(claimed)
    while claimed := _claim(CaseClock.escalated_at, now, now):
        case_ids = sorted({row.case_id for row in claimed})
        db.session.execute(update(Case).where(Case.id.in_(case_ids)).values(overdue=True),
                           execution_options={"synchronize_session": False})
        mark_dirty(case_ids)  # a bulk UPDATE passes the session's change tracking: the stats must hear of it
        db.session.execute(_new_notifications(), [
            {"kind": "escalation", "clock_id": row.id, "case_id": row.case_id, "clock": row.clock,
             "due_at": row.due_at, "role": "supervisor", "created_at": now} for row in claimed])
        # 超期: the escalation is part of the case's history.
        db.session.execute(insert(CaseEvent), [
            {"case_id": row.case_id, "at": now, "actor_id": None, "actor_label": "system", "action": "escalate",
             "reason": row.clock, "note": None, "data": {"clock": row.clock, "due": row.due_at.isoformat()}}
            for row in claimed])
        db.session.commit()
        result.escalations += len(claimed)
    return result
