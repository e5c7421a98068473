"""Deadline reminders by SMS, beside the in-app notice (hotline/deadlines/sweep.py), for a handler who
gave a mobile number and opted in (`user.sms_reminders`). One message per clock and due date: a due
date moved later earns a fresh reminder (decision 29), a repeated sweep none."""
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select

from hotline.auth.models import User
from hotline.cases.models import Case
from hotline.cases.operations import KIND_NAMES
from hotline.deadlines.display import format_due
from hotline.extensions import db
from hotline.labels import label
from hotline.sms.models import SmsMessage
from hotline.sms.operations import queue_message


def queue_reminders(claimed: list, owners: dict[int, tuple[int | None, int | None]]) -> int:
    """`claimed`: the sweep's reminder rows (id, case_id, clock, due_at); `owners`: case id → (handler, bureau).
    Queues in the sweep's transaction; returns how many."""
    handler_ids = {owners[row.case_id][0] for row in claimed if owners[row.case_id][0]}
    if not handler_ids:
        return 0
    phones = dict(db.session.execute(select(User.id, User.mobile).where(
        User.id.in_(handler_ids), User.sms_reminders.is_(True), User.active.is_(True), User.mobile.is_not(None))).all())
    rows = [row for row in claimed if phones.get(owners[row.case_id][0])]
    if not rows:
        return 0
    cases = {id_: (number, kind) for id_, number, kind in db.session.execute(
        select(Case.id, Case.number, Case.kind).where(Case.id.in_({row.case_id for row in rows})))}
    keys = {row.id: f"reminder:{row.id}:{row.due_at:%Y%m%d%H%M}" for row in rows}
    taken = set(db.session.scalars(select(SmsMessage.dedupe_key).where(SmsMessage.dedupe_key.in_(keys.values()))))
    tz = current_app.config["TIMEZONE"]
    queued = 0
    with force_locale("zh_Hans_CN"):  # the SMS is Chinese whatever the language of whoever runs the sweep
        for row in rows:
            if keys[row.id] in taken:
                continue
            number, kind = cases[row.case_id]
            queue_message(kind="reminder", template_code="HANDLER_REMINDER", case_id=row.case_id,
                          to_phone=phones[owners[row.case_id][0]],
                          params={"kind": KIND_NAMES.get(kind, kind), "number": number, "clock": label(row.clock),
                                  "due": format_due(row.due_at, tz)},
                          dedupe_key=keys[row.id])
            queued += 1
    return queued
