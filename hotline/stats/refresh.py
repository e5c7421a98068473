"""Keeping the rollups up to date: mark a case dirty in the transaction that changes it, and let a
worker recount dirty cases in batches. A recount adds (facts now − facts last counted), so it may run
any number of times, in any order, concurrently: each case is counted once."""
import functools
import logging
from collections.abc import Iterable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import bindparam, delete, event, func, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hotline.cases.models import Case, CaseEvent
from hotline.deadlines.models import CaseClock, ExtensionRequest
from hotline.extensions import db
from hotline.portal.models import CaseRating
from hotline.stats import cells as cellmath
from hotline.stats import rebuild_pg
from hotline.stats.facts import FACT_FIELDS, Facts, load_facts
from hotline.stats.models import (
    StatBusinessMonth,
    StatCase,
    StatDay,
    StatDayBureauCategories,
    StatDayCategories,
    StatDayTotals,
    StatDirty,
    StatMonth,
    StatMonthBureauCategories,
    StatMonthCategories,
    StatMonthTotals,
    StatOpen,
)
from hotline.types import utcnow

log = logging.getLogger(__name__)
BATCH = 500
_MARKED = "stats_marked"
_TABLES = {**{name: (model, cellmath.DAY_MEASURES) for name, model in (
               ("day", StatDay), ("month", StatMonth), ("day_totals", StatDayTotals), ("month_totals", StatMonthTotals),
               ("day_categories", StatDayCategories), ("month_categories", StatMonthCategories),
               ("day_bureau_categories", StatDayBureauCategories),
               ("month_bureau_categories", StatMonthBureauCategories))},
           "open": (StatOpen, cellmath.OPEN_MEASURES), "business": (StatBusinessMonth, cellmath.BUSINESS_MEASURES)}
_DAY_KEY = ("day", "bureau_id", "kind", "channel", "category", "outcome")
_KEYS = {"day": _DAY_KEY, "month": ("month", *_DAY_KEY[1:]),
         **{name: tuple(("month" if name.startswith("month") and i == 0 else _DAY_KEY[i])
                        for i in cellmath.PROJECTIONS[name]) for name in cellmath.PROJECTIONS if name != "month"},
         "open": ("bureau_id", "kind", "channel", "category", "status"),
         "business": ("month", "bureau_id", "kind", "business_key")}


def _insert(session: Session, table):
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(table)


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


# --- marking -------------------------------------------------------------------------------------

_CHILDREN = (CaseClock, CaseRating, CaseEvent, ExtensionRequest)  # rows that change what a case counts


def mark_dirty(case_ids: Iterable[int], session: Session | None = None) -> None:
    """Mark cases for a recount, in the caller's transaction. Re-marking a marked case locks its row,
    so a refresh running meanwhile skips it and the next one counts the change."""
    session = session or db.session
    ids = sorted({int(i) for i in case_ids if i is not None})
    if not ids:
        return
    connection = session.connection()
    now = utcnow()
    connection.execute(_mark_statement(connection.dialect.name), [{"case_id": i, "marked_at": now} for i in ids])


@functools.cache
def _mark_statement(dialect: str):
    # Built once per dialect: every intake marks its case, and building the upsert cost more CPU than
    # sending it (issue #13).
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(StatDirty)
    return stmt.on_conflict_do_update(index_elements=["case_id"], set_={"marked_at": stmt.excluded.marked_at})


@event.listens_for(Session, "after_flush")
def _mark_changed_cases(session: Session, _context) -> None:
    ids: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Case):
            ids.add(obj.id)
        elif isinstance(obj, _CHILDREN):
            ids.add(obj.case_id)
    marked = session.info.setdefault(_MARKED, set())
    fresh = ids - marked - {None}
    if fresh:
        mark_dirty(fresh, session)
        marked |= fresh


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_marks(session: Session, *_args) -> None:
    session.info.pop(_MARKED, None)


# --- counting ------------------------------------------------------------------------------------

def _snapshot_facts(row: StatCase) -> Facts | None:
    if not row.counted:
        return None
    values = {name: getattr(row, name) for name in FACT_FIELDS}
    values["returns"], values["extensions"] = values["returns"] or [], values["extensions"] or []
    return Facts(**values)


def _lock_snapshots(case_ids: list[int]) -> dict[int, StatCase]:
    """The snapshot rows of these cases, created empty where missing, locked until commit (PostgreSQL)."""
    stmt = _insert(db.session, StatCase).on_conflict_do_nothing(index_elements=["case_id"])
    db.session.execute(stmt, [{"case_id": i, "counted": False} for i in case_ids])
    query = select(StatCase).where(StatCase.case_id.in_(case_ids)).order_by(StatCase.case_id)
    if _is_postgres():
        query = query.with_for_update()
    return {row.case_id: row for row in db.session.scalars(query.execution_options(populate_existing=True))}


def write_cells(tables: dict[str, dict[tuple, list[int]]], names: dict[str, str]) -> None:
    """Add the cells to their tables. Keys are written in one order in every transaction, so two
    refreshes touching the same cells queue behind each other instead of deadlocking."""
    for table_name in _TABLES:
        cells = tables.get(table_name)
        if not cells:
            continue
        table, measures = _TABLES[table_name]
        keys = _KEYS[table_name]
        rows = []
        for key in sorted(cells, key=lambda k: tuple(str(part) for part in k)):
            row = dict(zip(keys, key, strict=True))
            row.update(zip(measures, cells[key], strict=True))
            if table_name == "business":
                row["business_name"] = names.get(key[3], "")
            rows.append(row)
        stmt = _insert(db.session, table)
        updates = {name: getattr(table, name) + getattr(stmt.excluded, name) for name in measures}
        if table_name == "business":  # the latest spelling names the business; a subtraction keeps the name
            updates["business_name"] = sql_case((stmt.excluded.business_name != "", stmt.excluded.business_name),
                                                else_=table.business_name)
        db.session.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=updates), rows)


def refresh(case_ids: Iterable[int]) -> int:
    """Recount these cases in the caller's transaction. Returns how many changed what they count."""
    ids = sorted({int(i) for i in case_ids})
    if not ids:
        return 0
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    snapshots = _lock_snapshots(ids)
    current = load_facts(ids, zone)
    delta: cellmath.Cells = {}
    names: dict[str, str] = {}
    changed: list[tuple[int, Facts | None]] = []
    for case_id in ids:
        old, new = _snapshot_facts(snapshots[case_id]), current.get(case_id)
        if old == new:
            continue
        cellmath.difference(old, new, delta)
        if new is not None and new.business_key:
            names[new.business_key] = new.business_name or ""
        changed.append((case_id, new))
    write_cells(cellmath.with_months(delta), names)
    gone = [case_id for case_id, new in changed if new is None]
    if gone:
        db.session.execute(delete(StatCase).where(StatCase.case_id.in_(gone)))
    rows = [{"case_id_": case_id, "counted": True, **{name: getattr(new, name) for name in FACT_FIELDS}}
            for case_id, new in changed if new is not None]
    if rows:
        stmt = (update(StatCase.__table__).where(StatCase.__table__.c.case_id == bindparam("case_id_"))
                .values({name: bindparam(name) for name in ("counted", *FACT_FIELDS)}))
        db.session.execute(stmt, rows)
    return len(changed)


def drain(batch: int = BATCH, limit: int | None = None) -> int:
    """Recount dirty cases, a batch per transaction, until none is left (or `limit` cases are done).
    Batches are claimed with SKIP LOCKED, so several workers share the work."""
    done = 0
    while limit is None or done < limit:
        if _is_postgres() and not db.session.scalar(select(func.pg_try_advisory_xact_lock_shared(REBUILD_LOCK))):
            db.session.rollback()  # a full rebuild is running: it counts these cases itself
            break
        query = select(StatDirty.case_id).order_by(StatDirty.case_id).limit(batch)
        if _is_postgres():
            query = query.with_for_update(skip_locked=True)
        ids = list(db.session.scalars(query))
        if not ids:
            db.session.rollback()
            break
        db.session.execute(delete(StatDirty).where(StatDirty.case_id.in_(ids)))
        refresh(ids)
        db.session.commit()
        done += len(ids)
    return done


# --- rebuilding ----------------------------------------------------------------------------------

REBUILD_LOCK = 731_512_315  # PostgreSQL advisory lock: a full rebuild excludes the refreshes
_ROLLUPS = tuple(model for model, _ in _TABLES.values())


def rebuild(start=None, batch: int = 2000, progress=None) -> int:
    """Count every case again from nothing (`start` None), or recount the cases received on or after
    `start` (a date) that are not counted as they are now, e.g. after rows were imported behind the
    app's back. Returns the cases counted."""
    if start is not None:
        ids = db.session.scalars(select(Case.id).where(Case.received_at >= _local_midnight(start)))
        total = 0
        for chunk in _chunks(list(ids), batch):
            total += refresh(chunk)
            db.session.commit()
        return total
    if _is_postgres():
        # Set-based, in one transaction holding REBUILD_LOCK (minutes at 10M cases, not an hour). The lock is
        # the transaction's: a session lock taken here was released after the commit on whichever pooled
        # connection came next, and stayed held on its own, blocking every later rebuild and drain.
        return rebuild_pg.rebuild_all(REBUILD_LOCK, progress=progress)
    for model in (*_ROLLUPS, StatCase, StatDirty):
        db.session.execute(delete(model))
    db.session.commit()
    return _count_all(batch, progress)


def _count_all(batch: int, progress) -> int:
    """The fast path of a full rebuild: facts are loaded in batches, snapshots inserted as they are,
    and the cells summed in memory and written every `flush_every` cases."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    flush_every = 200_000
    pending: cellmath.Cells = {}
    names: dict[str, str] = {}
    done, last_id, since_flush = 0, 0, 0
    while True:
        ids = list(db.session.scalars(select(Case.id).where(Case.id > last_id).order_by(Case.id).limit(batch)))
        if not ids:
            break
        last_id = ids[-1]
        facts = load_facts(ids, zone)
        rows = [{"case_id": case_id, "counted": True, **{name: getattr(f, name) for name in FACT_FIELDS}}
                for case_id, f in facts.items()]
        stmt = _insert(db.session, StatCase).values(rows).on_conflict_do_nothing(index_elements=["case_id"])
        if db.session.execute(stmt).rowcount != len(rows):
            # A case was counted meanwhile (an embedded relay): take this batch the careful way.
            db.session.rollback()
            refresh(ids)
        else:
            for f in facts.values():
                cellmath.difference(None, f, pending)
                if f.business_key:
                    names[f.business_key] = f.business_name or ""
        done += len(ids)
        since_flush += len(ids)
        if since_flush >= flush_every:
            write_cells(cellmath.with_months(pending), names)
            pending, names, since_flush = {}, {}, 0
            if progress:
                progress(done)
        db.session.commit()
    write_cells(cellmath.with_months(pending), names)
    db.session.commit()
    return done


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
