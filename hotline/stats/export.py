"""Streamed exports of a table: CSV (UTF-8 with a BOM, so that spreadsheet programs read Chinese right)
and XLSX (XlsxWriter in constant-memory mode, written to a temporary file and sent in chunks). Rows come
from an iterator, so a year of cases never sits in memory."""
import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import quote

from flask import Response, stream_with_context

CHUNK = 64 * 1024


def _csv_chunks(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_chunks(header: Sequence[str], rows: Iterable[Sequence], sheet: str) -> Iterator[bytes]:
    import xlsxwriter
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        book = xlsxwriter.Workbook(path, {"constant_memory": True, "strings_to_numbers": False,
                                          "strings_to_formulas": False, "strings_to_urls": False})
        bold = book.add_format({"bold": True})
        worksheet = book.add_worksheet(sheet[:31])
        worksheet.write_row(0, 0, list(header), bold)
        for i, row in enumerate(rows, start=1):
            worksheet.write_row(i, 0, ["" if v is None else v for v in row])
        book.close()
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def send_table(fmt: str, filename: str, header: Sequence[str], rows: Iterable[Sequence],
               sheet: str = "data") -> Response:
    """A download of the table as `fmt` ('csv' or 'xlsx'); `filename` without its extension."""
    if fmt == "xlsx":
        body = stream_with_context(_xlsx_chunks(header, rows, sheet))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = stream_with_context(_csv_chunks(header, rows))
        mimetype = "text/csv; charset=utf-8"
    response = Response(body, content_type=mimetype)
    response.headers["Content-Disposition"] = _disposition(f"{filename}.{fmt}")
    response.headers["Cache-Control"] = "no-store"
    return response
