"""Personal data at rest: ID numbers encrypted under the data keys, query codes hashed under their own key.

- ID numbers (`case.consumer_id_number_enc`, `case_complainant.id_number_enc`) are Fernet tokens under
  HOTLINE_DATA_KEYS: comma-separated Fernet keys, newest first, read with MultiFernet (the newest
  encrypts, any decrypts); when unset, one key generated into `instance/data_keys` (never in production).
  Before the data keys existed the key was derived from the secret key (HKDF-SHA256, info
  "hotline id numbers"); that derived key is tried last, so older tokens stay readable until
  `hotline keys rotate` re-encrypts them under the newest key.
- Query codes are stored as an HMAC under HOTLINE_QUERY_CODE_KEY (else `instance/query_code_key`).
  Hashes made with the secret key before still match, and are re-hashed under the new key when used.

The secret key those older values were made with is HOTLINE_LEGACY_SECRET_KEY, else HOTLINE_SECRET_KEY:
changing the secret key only ends sessions, provided the old one stays as the legacy secret until
`hotline keys rotate` has run (query codes made before the data keys keep needing it).
"""
import base64
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import Table, select, update

from hotline.cases import numbers
from hotline.extensions import db

log = logging.getLogger(__name__)
EXTENSION = "hotline_personal_data_keys"


class UnreadableData(ValueError):
    """A stored token that none of the configured keys opens."""


@dataclass(frozen=True)
class Keys:
    data: MultiFernet  # every key, newest first, the legacy derived key last
    newest: Fernet
    query_code: str
    legacy_secret: str | None


# ---- the keys ------------------------------------------------------------------------------------------

def legacy_fernet(secret: str) -> Fernet:
    """The key ID numbers were encrypted with before HOTLINE_DATA_KEYS: derived from the secret key."""
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"hotline id numbers").derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def _split(value) -> list[str]:
    items = value if isinstance(value, list | tuple) else str(value).replace("\n", ",").split(",")
    return [item.strip() for item in items if item and item.strip()]


def _instance_secret(app: Flask, name: str, variable: str, make: Callable[[], str]) -> str:
    """A key generated once into the instance folder, like the secret key (never in production, where
    losing one machine's folder would lose every ID number). Made with a hard link, so two processes
    starting together end up with the same key."""
    if app.config["ENV"] == "production":
        raise RuntimeError(f"{variable} must be set in production")
    path = Path(app.instance_path) / name
    if not path.exists():
        temporary = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(make() + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process was first: everybody uses its key
        finally:
            temporary.unlink()
    return path.read_text().strip()


def load_keys(app: Flask) -> Keys:
    configured = app.config.get("DATA_KEYS") or _instance_secret(
        app, "data_keys", "HOTLINE_DATA_KEYS", lambda: Fernet.generate_key().decode())
    fernets = []
    for position, key in enumerate(_split(configured), start=1):
        try:
            fernets.append(Fernet(key))
        except ValueError:
            raise RuntimeError(f"HOTLINE_DATA_KEYS: key {position} is not a Fernet key (32 url-safe base64 bytes; "
                               "make one with `hotline keys generate`)") from None
    if not fernets:
        raise RuntimeError("HOTLINE_DATA_KEYS holds no key")
    query_code = app.config.get("QUERY_CODE_KEY") or _instance_secret(
        app, "query_code_key", "HOTLINE_QUERY_CODE_KEY", lambda: secrets.token_urlsafe(32))
    legacy = app.config.get("LEGACY_SECRET_KEY") or app.config.get("SECRET_KEY") or None
    every = fernets + ([legacy_fernet(legacy)] if legacy else [])
    return Keys(data=MultiFernet(every), newest=fernets[0], query_code=query_code, legacy_secret=legacy)


def init_app(app: Flask) -> None:
    """Read (or make) the keys once at start-up, so a missing or malformed key stops the app at once."""
    app.extensions[EXTENSION] = load_keys(app)


def _keys() -> Keys:
    return current_app.extensions[EXTENSION]


# ---- ID numbers ----------------------------------------------------------------------------------------

def encrypt(plaintext: str) -> str:
    return _keys().data.encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _keys().data.decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise UnreadableData("no configured data key opens this ID number") from None


def readable(ciphertext: str | None) -> str | None:
    """An ID number for the reveal page: the plain text, or a clear message (never a 500) when none of
    the configured keys opens it (a data key removed too early, or the secret key changed before
    `hotline keys rotate`)."""
    if not ciphertext:
        return None
    try:
        return decrypt(ciphertext)
    except UnreadableData:
        log.error("an ID number cannot be decrypted: its key is not in HOTLINE_DATA_KEYS (nor the legacy secret)")
        return _("Cannot be decrypted: its key is not among the configured data keys. Tell the administrator.")


# ---- query codes ---------------------------------------------------------------------------------------

def hash_query_code(number: str, code: str) -> str:
    return numbers.hash_query_code(_keys().query_code, number, code)


def check_query_code(number: str, code: str, stored: str) -> tuple[bool, str | None]:
    """Whether the code matches the stored hash, and the hash to store instead when it matched only the
    legacy one (made with the secret key). Both hashes are always computed: the same work either way."""
    keys = _keys()
    current = numbers.query_code_matches(keys.query_code, number, code, stored)
    legacy = numbers.query_code_matches(keys.legacy_secret or keys.query_code, number, code, stored)
    legacy = legacy and keys.legacy_secret is not None
    return current or legacy, (hash_query_code(number, code) if legacy and not current else None)


# ---- key rotation --------------------------------------------------------------------------------------

@dataclass
class Rotation:
    """Progress of one column: rows seen, re-encrypted, and those no key opens (left as they are)."""
    column: str
    checked: int = 0
    rotated: int = 0
    unreadable: int = 0


def _columns() -> list[tuple[Table, str]]:
    from hotline.cases.models import Case, CaseComplainant
    return [(Case.__table__, "consumer_id_number_enc"), (CaseComplainant.__table__, "id_number_enc")]


def rotate_data_keys(batch: int = 500, report: Callable[[Rotation], None] | None = None) -> list[Rotation]:
    """Re-encrypt every stored ID number under the newest data key, `batch` rows a transaction, in id
    order. Tokens the newest key opens already are skipped, so a run stopped half-way is resumed by
    running it again. Unreadable tokens are counted and left alone (never overwritten)."""
    keys = _keys()
    results = []
    for table, name in _columns():
        column, progress, last_id = table.c[name], Rotation(f"{table.name}.{name}"), 0
        while True:
            rows = db.session.execute(select(table.c.id, column).where(column.is_not(None), table.c.id > last_id)
                                      .order_by(table.c.id).limit(batch)).all()
            if not rows:
                break
            for row_id, token in rows:
                progress.checked += 1
                try:
                    keys.newest.decrypt(token.encode())
                    continue  # already under the newest key
                except InvalidToken:
                    pass
                try:
                    fresh = keys.data.rotate(token.encode()).decode()
                except InvalidToken:
                    progress.unreadable += 1
                    log.error("keys rotate: %s of row %s cannot be decrypted with any configured key", name, row_id)
                    continue
                # Only if unchanged since it was read: a token written meanwhile is already the newest.
                db.session.execute(update(table).where(table.c.id == row_id, column == token).values({name: fresh}))
                progress.rotated += 1
            last_id = rows[-1][0]
            db.session.commit()
            if report:
                report(progress)
        if report and not progress.checked:
            report(progress)  # a column with nothing to do says so too
        results.append(progress)
    return results
