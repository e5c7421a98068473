"""Evidence files: the type is read from the content, photos lose their EXIF (GPS), files are stored
under random names outside the web root, limits on size and count (issue #10)."""
import hashlib
import io

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select

from hotline.cases.schemas import FieldErrors
from hotline.extensions import db
from hotline.portal import evidence
from hotline.portal.models import Evidence
from hotline.storage import LocalStorage
from tests.portal.test_submit import confirm, hidden_fields, last_code, post_form

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 500
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 500
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def evidence_folder(app, tmp_path):
    app.config["STORAGE_DIR"] = str(tmp_path / "evidence")
    app.extensions.pop("hotline_storage", None)
    yield tmp_path / "evidence"
    app.config.pop("STORAGE_DIR")
    app.extensions.pop("hotline_storage", None)


def photo_with_gps(fmt="JPEG") -> bytes:
    image = Image.new("RGB", (64, 48), (10, 120, 200))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Orientation] = 1
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (41.0, 6.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", (122.0, 59.0, 10.0)
    out = io.BytesIO()
    image.save(out, fmt, exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the test photo has a position
    return data


def has_exif(data: bytes) -> bool:
    image = Image.open(io.BytesIO(data))
    exif = image.getexif()
    return bool(exif) or bool(exif.get_ifd(ExifTags.IFD.GPSInfo)) or "exif" in image.info


@pytest.mark.parametrize("data", [ELF, WINDOWS_EXE, b"<html><script>alert(1)</script></html>", b"just text"])
def test_an_executable_or_other_file_renamed_jpg_is_refused(data):
    with pytest.raises(FieldErrors) as refused:
        evidence.check_file("photo.jpg", data)
    assert "photo.jpg" in refused.value.fields["evidence"]


def test_an_executable_renamed_jpg_is_refused_on_the_form_with_a_clear_error(client):
    response = post_form(client, files=[(io.BytesIO(WINDOWS_EXE), "发票.jpg")])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="evidence-error"' in page and "发票.jpg" in page
    assert db.session.scalar(select(Evidence)) is None


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_photos_gps_exif_is_gone_after_upload(fmt):
    checked = evidence.check_file(f"photo.{fmt.lower()}", photo_with_gps(fmt))
    assert not has_exif(checked.data)
    assert Image.open(io.BytesIO(checked.data)).size == (64, 48)  # still the picture


def test_the_stored_file_of_a_submitted_photo_has_no_gps(client, evidence_folder):
    summary = post_form(client, files=[(io.BytesIO(photo_with_gps()), "IMG_0001.JPG")])
    assert confirm(client, summary.get_data(as_text=True), code=last_code()).status_code == 302
    item = db.session.scalar(select(Evidence))
    stored = evidence.read(item)
    assert not has_exif(stored)
    assert item.size == len(stored) and item.sha256 == hashlib.sha256(stored).hexdigest()
    # Stored under a random name in the storage folder, not the consumer's file name and not under static/.
    path = evidence_folder / item.storage_key
    assert path.exists() and "IMG_0001" not in str(path) and "static" not in str(path)


def test_the_type_comes_from_the_content_not_the_name():
    assert evidence.check_file("scan.exe", PDF).content_type == "application/pdf"
    assert evidence.check_file("picture.pdf", photo_with_gps("PNG")).content_type == "image/png"


def test_size_and_count_limits(app):
    app.config["EVIDENCE_MAX_BYTES"] = 1024
    try:
        with pytest.raises(FieldErrors):
            evidence.check_file("big.pdf", PDF + b"0" * 2000)
    finally:
        app.config["EVIDENCE_MAX_BYTES"] = 10 * 1024 * 1024
    with pytest.raises(FieldErrors) as refused:
        evidence.check_files([(f"{i}.pdf", PDF) for i in range(7)])
    assert "6" in refused.value.fields["evidence"]


def test_a_damaged_image_is_refused_not_a_server_error():
    data = photo_with_gps()[:200]  # the JPEG header, then nothing
    with pytest.raises(FieldErrors):
        evidence.check_file("broken.jpg", data)


def test_attach_files_to_an_existing_case(make_case):
    case = make_case().case
    rows = evidence.attach_files(case, [("receipt.pdf", PDF), ("photo.jpg", photo_with_gps())], "consumer")
    db.session.commit()
    assert [r.original_name for r in rows] == ["receipt.pdf", "photo.jpg"]
    assert [e.content_type for e in evidence.evidence_of(case)] == ["application/pdf", "image/jpeg"]
    with pytest.raises(FieldErrors):  # one bad file: nothing of the call is stored
        evidence.attach_files(case, [("ok.pdf", PDF), ("bad.jpg", ELF)], "consumer")
    assert len(evidence.evidence_of(case)) == 2


def test_storage_keys_cannot_leave_the_folder(tmp_path):
    local = LocalStorage(tmp_path)
    for key in ("../secret_key", "/etc/passwd", "ab/../../x", "AB/" + "0" * 32):
        with pytest.raises(ValueError):
            local.read(key)


def test_a_signed_files_token_cannot_be_forged(client):
    summary = post_form(client, files=[(io.BytesIO(PDF), "a.pdf")]).get_data(as_text=True)
    assert "a.pdf" in summary
    response = client.post("/submit/confirm", data={**hidden_fields(summary), "files": "forged.token",
                                                    "code": last_code(), "send": "1"})
    assert response.status_code == 302
    assert db.session.scalar(select(Evidence)) is None  # an unsigned list names no files
