"""INSERT a new ORM object at once, by one Core statement, and attach it to the session as if it had
been loaded: intake's hot path (issue #13). Flushing a case and its companion rows through the unit of
work (sorting, history, post-fetch, flush events) cost intake about 1 ms of CPU more than these cached
statements. The object behaves like any other afterwards: a later change to it is an UPDATE at the next
flush, with its version checked.

What the flush would have done and this does too: many-to-one relationships given as objects fill
their foreign-key columns, the mapper's `before_insert` and `after_insert` events run, column defaults
are applied (and kept on the object), and the primary key and server defaults come back by RETURNING.
What it does not: session flush events (`before_flush`, `after_flush`) never see the object, so their
work is the caller's (marking the case for the statistics' recount, the outbox's publish list)."""
from sqlalchemy import insert, inspect
from sqlalchemy.orm import MANYTOONE, Session, make_transient_to_detached

from hotline.extensions import db

_PLANS: dict[type, "_Plan"] = {}


class _Plan:
    """Per mapped class, worked out once: which columns are written, which come back, and the statement."""

    def __init__(self, cls: type):
        mapper = inspect(cls)
        table = mapper.local_table
        self.mapper = mapper
        self.columns = []  # (attribute key, column key, default) for the columns written
        returned = []
        for column in table.columns:
            key = mapper.get_property_by_column(column).key
            # (an integer primary key is taken as generated: a table whose key the caller gives, like
            # stat_dirty's, is not for this module)
            if column.primary_key and column.autoincrement in (True, "auto") and column.default is None:
                returned.append((key, column))
            elif column.default is None and column.server_default is not None:
                returned.append((key, column))
            else:
                self.columns.append((key, column.key, column.default))
        self.returned_keys = [key for key, _ in returned]
        self.statement = insert(table).returning(*(column for _, column in returned))
        self.many_statement = insert(table).returning(*(column for _, column in returned),
                                                      sort_by_parameter_order=True)
        self.bare_statement = insert(table)
        self.pk_keys = [mapper.get_property_by_column(c).key for c in mapper.primary_key]
        self.many_to_one = [
            (rel.key, [(mapper.get_property_by_column(local).key,
                        rel.mapper.get_property_by_column(remote).key) for local, remote in rel.local_remote_pairs])
            for rel in mapper.relationships if rel.direction is MANYTOONE]
        self.version_key = (mapper.get_property_by_column(mapper.version_id_col).key
                            if mapper.version_id_col is not None else None)


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _Plan(cls)
    return plan


def _default(default):
    if default is None:
        return None
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy wraps a no-argument callable to take the (unused) context
    raise TypeError(f"column default {default!r} is not supported by insert_now")


def insert_now(*objs, session: Session | None = None):
    """INSERT the new objects (transient, of one class) now, in one statement, in the session's
    transaction, and make them persistent in the session. Returns the first object (the only one, as
    mostly called), its primary key and defaults filled in."""
    if not objs:
        return None
    session = session or db.session
    plan = _plan(type(objs[0]))
    connection = session.connection()
    rows, states = [], []
    for obj in objs:
        if type(obj) is not plan.mapper.class_:
            raise TypeError("insert_now writes objects of one class at a time")
        state = inspect(obj)
        if not state.transient:
            raise ValueError(f"insert_now takes a new object, not {state!r}")
        rows.append(_row(plan, obj, state, connection))
        states.append(state)
    if plan.returned_keys and connection.dialect.insert_returning and (
            len(rows) == 1 or connection.dialect.use_insertmanyvalues):
        # several rows: one INSERT .. VALUES (..), (..) RETURNING, in the order given
        if len(rows) == 1:
            returned = [connection.execute(plan.statement, rows[0]).one()]
        else:
            returned = connection.execute(plan.many_statement, rows).all()
        for obj, values in zip(objs, returned, strict=True):
            for key, value in zip(plan.returned_keys, values, strict=True):
                setattr(obj, key, value)
    else:
        for obj, row in zip(objs, rows, strict=True):
            result = connection.execute(plan.bare_statement, row)
            for key, value in zip(plan.pk_keys, result.inserted_primary_key, strict=True):
                if getattr(obj, key) is None:
                    setattr(obj, key, value)
    for obj, state in zip(objs, states, strict=True):
        make_transient_to_detached(obj)  # its attribute history reset: what it holds is what the row holds
        session.add(obj)
        plan.mapper.dispatch.after_insert(plan.mapper, connection, state)
    return objs[0]


def _row(plan: _Plan, obj, state, connection) -> dict:
    """The object's column values as the INSERT takes them, its defaults applied on the object too."""
    values = state.dict
    for rel_key, pairs in plan.many_to_one:
        if rel_key in values:
            target = values[rel_key]
            for local_key, remote_key in pairs:
                setattr(obj, local_key, getattr(target, remote_key) if target is not None else None)
    if plan.version_key is not None and values.get(plan.version_key) is None:
        setattr(obj, plan.version_key, 1)  # the mapper's own generator starts at 1
    for key in plan.returned_keys:
        if values.get(key) is not None:  # the statement has no place for it: a plan per call is not worth it
            raise ValueError(f"insert_now writes no {type(obj).__name__}.{key}; it comes from the database")
    plan.mapper.dispatch.before_insert(plan.mapper, connection, state)
    row = {}
    for key, column_key, default in plan.columns:
        if key not in values or (values[key] is None and default is not None):
            setattr(obj, key, _default(default))  # as the flush does: None on a column with a default is the default
        row[column_key] = values[key]
    return row
