"""证据材料: files a consumer (or staff) attaches to a case. The type is read from the content, never
from the name, so an executable renamed .jpg is refused; photos are re-encoded so their EXIF (the
GPS position of the consumer's home, the phone's serial) is gone; files go to the storage interface
under random names; the row keeps the original name, type, size and SHA-256 of what was stored."""
import hashlib
import io
import warnings
from dataclasses import dataclass

import filetype
from flask import current_app
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select

from hotline.cases.models import Case
from hotline.cases.schemas import FieldErrors
from hotline.extensions import db
from hotline.portal.models import Evidence
from hotline.storage import new_key, storage

FIELD = "evidence"
MAX_PER_CASE = 30  # every upload channel together (the submission, later additions)
MAX_PIXELS = 60_000_000  # a photo of a 200-megapixel phone is 200 MP only in theory; this refuses pixel bombs
# Content type → (Pillow format to re-encode with, or None to keep the bytes as sent).
ALLOWED = {
    "image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP",
    "application/pdf": None,
    "audio/mpeg": None, "audio/mp4": None, "audio/amr": None, "audio/aac": None, "audio/x-wav": None,
    "video/mp4": None, "video/quicktime": None, "video/3gpp": None,
}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf",
              "audio/mpeg": "mp3", "audio/mp4": "m4a", "audio/amr": "amr", "audio/aac": "aac", "audio/x-wav": "wav",
              "video/mp4": "mp4", "video/quicktime": "mov", "video/3gpp": "3gp"}
SHOWN_INLINE = frozenset({"image/jpeg", "image/png", "image/webp"})  # re-encoded by us: safe to show in a page


@dataclass
class CheckedFile:
    name: str
    content_type: str
    data: bytes


def limits() -> tuple[int, int]:
    config = current_app.config
    return int(config.get("EVIDENCE_MAX_FILES", 6)), int(config.get("EVIDENCE_MAX_BYTES", 10 * 1024 * 1024))


def _refuse(message) -> FieldErrors:
    return FieldErrors({FIELD: str(message)})


def _clean_name(name: str | None) -> str:
    # Only for display and the download's name: keep the last path part, no control characters.
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in "\"<>")
    return name.strip()[:200] or "file"


def _reencode(data: bytes, fmt: str, name: str) -> bytes:
    """The picture alone, without its metadata: EXIF (GPS included), XMP and comments are not copied."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    raise _refuse(_l("%(name)s: the picture is too large", name=name))
                image.load()
                upright = ImageOps.exif_transpose(image)  # keep it upright once the orientation tag is gone
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise _refuse(_l("%(name)s: the picture is damaged and cannot be read", name=name)) from None
    clean = upright.copy()
    clean.info = {}  # nothing of the original's metadata rides along into the new file
    params: dict = {"exif": b""}
    if fmt == "JPEG":
        if clean.mode not in ("RGB", "L"):
            clean = clean.convert("RGB")
        params.update(quality=90)
    elif fmt == "WEBP":
        params.update(quality=90)
    out = io.BytesIO()
    clean.save(out, fmt, **params)
    return out.getvalue()


def check_file(name: str | None, data: bytes) -> CheckedFile:
    """One file: allowed type (from its content) and size, images cleaned. Raises FieldErrors on `evidence`."""
    name = _clean_name(name)
    max_bytes = limits()[1]
    if not data:
        raise _refuse(_l("%(name)s is empty", name=name))
    if len(data) > max_bytes:
        raise _refuse(_l("%(name)s is larger than %(mb)s MB", name=name, mb=max_bytes // (1024 * 1024)))
    kind = filetype.guess(data)
    content_type = kind.mime if kind else None
    if content_type == "image/heic":
        raise _refuse(_l("%(name)s is a HEIC photo, which cannot be read here: send it as JPEG "
                         "(on an iPhone: Settings › Camera › Formats › Most Compatible)", name=name))
    if content_type not in ALLOWED:
        raise _refuse(_l("%(name)s is not a photo, PDF, audio or video file (the file's content was checked, "
                         "not its name)", name=name))
    fmt = ALLOWED[content_type]
    if fmt:
        data = _reencode(data, fmt, name)
    return CheckedFile(name=name, content_type=content_type, data=data)


def _read_upload(upload) -> tuple[str | None, bytes]:
    """A werkzeug FileStorage or a (name, bytes) pair; reads one byte past the limit, never the whole of a huge file."""
    if isinstance(upload, tuple):
        return upload
    return upload.filename, upload.stream.read(limits()[1] + 1)


def check_files(uploads, already: int = 0) -> list[CheckedFile]:
    """Every chosen file checked before any is stored, so one refused file stores nothing."""
    pairs = [_read_upload(u) for u in uploads]
    pairs = [(name, data) for name, data in pairs if name or data]  # an empty file input sends no name, no bytes
    max_files = limits()[0]
    if len(pairs) > max_files:
        raise _refuse(_l("at most %(count)s files at a time", count=max_files))
    if already + len(pairs) > MAX_PER_CASE:
        raise _refuse(_l("a case holds at most %(count)s files", count=MAX_PER_CASE))
    return [check_file(name, data) for name, data in pairs]


def store(checked: list[CheckedFile]) -> list[dict]:
    """Write checked files to the store; returns what a row needs (the storage key and the facts)."""
    stored = []
    for item in checked:
        key = new_key()
        storage().save(key, item.data)
        stored.append({"key": key, "name": item.name, "type": item.content_type, "size": len(item.data),
                       "sha256": hashlib.sha256(item.data).hexdigest()})
    return stored


def attach_stored(case: Case, stored: list[dict], source: str, uploaded_by=None) -> list[Evidence]:
    """Rows for files already in the store (kept between the form and its confirmation), in the caller's
    transaction. A key already attached is skipped: a re-sent form cannot give one file to two cases."""
    keys = [s["key"] for s in stored]
    taken = set(db.session.scalars(select(Evidence.storage_key).where(Evidence.storage_key.in_(keys)))) \
        if keys else set()
    rows = [Evidence(case_id=case.id, storage_key=s["key"], original_name=s["name"], content_type=s["type"],
                     size=s["size"], sha256=s["sha256"], source=source,
                     uploaded_by_id=uploaded_by.id if uploaded_by is not None else None)
            for s in stored if s["key"] not in taken]
    db.session.add_all(rows)
    return rows


def attach_files(case: Case, files, source: str, uploaded_by=None) -> list[Evidence]:
    """Check, store and attach files to an existing case (source `consumer` or `staff`), in the caller's
    transaction. Raises FieldErrors on `evidence` (nothing stored) when a file is refused or too many."""
    if source not in ("consumer", "staff"):
        raise ValueError(f"unknown evidence source {source!r}")
    already = db.session.scalar(select(func.count()).select_from(Evidence).where(Evidence.case_id == case.id)) or 0
    return attach_stored(case, store(check_files(files, already)), source, uploaded_by)


def evidence_of(case: Case) -> list[Evidence]:
    return list(db.session.scalars(select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)))


def read(evidence: Evidence) -> bytes:
    return storage().read(evidence.storage_key)
