"""Region-pack entries that staff may also edit (statutory grounds, the answer bank): the pack's
changes reach the database, an administrator's own edits are never overwritten.

Each row keeps the hash of the pack entry last applied to it (`pack_hash`). On loading, an entry
whose hash is unchanged is skipped (so `hotline init` run twice changes nothing); a changed entry
is applied to a row nobody edited here, and otherwise waits in `pack_pending` until a supervisor or
administrator takes it or keeps their own text."""
import hashlib
import json
import logging

from sqlalchemy import select

from hotline.extensions import db
from hotline.reference.models import Answer, StatutoryGround

audit = logging.getLogger("hotline.audit")

# Per model: the key that matches a pack entry to a row, and the fields the pack sets (with the
# value an entry that omits one means).
KEYS = {StatutoryGround: {"version": "order-20", "code": None}, Answer: {"code": None}}
FIELDS = {
    StatutoryGround: {"purpose": None, "text": None, "legal_basis": None, "local_rule": False, "active": True},
    Answer: {"title": None, "keywords": [], "body": None, "legal_basis": None, "basis_verified": True},
}


def entry_hash(entry: dict) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _values(model, entry: dict) -> dict:
    return {name: entry.get(name, default) for name, default in FIELDS[model].items()}


def _key(model, entry: dict) -> dict:
    return {name: entry.get(name, default) for name, default in KEYS[model].items()}


def _edited_here(row) -> bool:
    """Edited by staff since the pack last set it. An answer saved through the form before pack
    hashes existed has no hash but names its editor: that counts as an edit too."""
    if not row.edited_locally and row.pack_hash is None and getattr(row, "updated_by_id", None) is not None:
        row.edited_locally = True
    return row.edited_locally


def _apply(row, values: dict, digest: str) -> None:
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
    row.pack_hash, row.pack_pending = digest, None


def merge_entries(model, entries: list[dict]) -> None:
    for entry in entries:
        digest = entry_hash(entry)
        values = _values(model, entry)
        row = db.session.scalar(select(model).filter_by(**_key(model, entry)))
        if row is None:
            db.session.add(model(**_key(model, entry), **values, pack_hash=digest))
        elif row.pack_hash == digest:
            if row.pack_pending is not None:  # the pack went back to what was applied: nothing to resolve
                row.pack_pending = None
        elif not _edited_here(row):
            _apply(row, values, digest)
        elif all(getattr(row, name) == value for name, value in values.items()):
            row.pack_hash, row.pack_pending = digest, None  # the local edit is what the pack now says
        elif row.pack_pending != entry:
            row.pack_pending = entry
    db.session.flush()


def conflicts(model) -> list:
    """Rows whose pack entry changed after a local edit, for the administrator to resolve."""
    query = select(model).where(model.pack_pending.is_not(None))
    order = (model.version, model.code) if model is StatutoryGround else (model.code,)
    return [row for row in db.session.scalars(query.order_by(*order)) if row.pack_pending]


def take_pack_version(row, user) -> None:
    """Resolve a conflict with the pack's text; the entry follows the pack again from now on."""
    entry = row.pack_pending
    _apply(row, _values(type(row), entry), entry_hash(entry))
    row.edited_locally = False
    audit.info("pack version taken for %s %s by %s", type(row).__tablename__, row.code, user.username)


def keep_local_version(row, user) -> None:
    """Resolve a conflict by keeping the local text; this pack entry is not raised again, a later
    change of it is."""
    row.pack_hash, row.pack_pending = entry_hash(row.pack_pending), None
    audit.info("local version kept for %s %s by %s", type(row).__tablename__, row.code, user.username)
