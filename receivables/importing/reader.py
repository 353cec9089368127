"""Read a CSV or XLSX file into a Table of text cells, with pandas.

Everything is read as text (`dtype=str`, `keep_default_na=False`): pandas never turns an
amount into a float, an invoice number like 0000611365 into 611365, or "NA" into a null.
Typing is the parser's job, under the mapping's rules."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import BinaryIO

import pandas as pd
from django.conf import settings
from django.utils.translation import gettext as _

from .errors import HEADER_ROW, ImportInvalidError, RowError

Progress = Callable[[float], None]  # how much of the file is read, 0.0 to 1.0

DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8-sig", "gb18030")  # UTF-8 (with or without BOM), then Chinese Excel's default


@dataclass
class Table:
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as the user sees it, cells)
    excel: bool = False
    total: int | None = None  # rows of the whole file, when `rows` holds only its first ones

    def column_index(self, name: str) -> int | None:
        try:
            return self.header.index(name)
        except ValueError:
            return None

    @property
    def row_count(self) -> int:
        return len(self.rows) if self.total is None else self.total


def _decode(data: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportInvalidError([RowError(HEADER_ROW, "", _("The file is neither UTF-8 nor GB18030 text."))])


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    return max(DELIMITERS, key=first_line.count) if any(d in first_line for d in DELIMITERS) else ","


READ_SHARE = 0.8  # of the progress bar: parsing the file; the rest is turning its rows into text cells


def _frame_to_table(frame: pd.DataFrame, *, excel: bool, progress: Progress | None = None) -> Table:
    values = frame.to_numpy().tolist()
    if not values:
        raise ImportInvalidError([RowError(HEADER_ROW, "", _("The file is empty."))])
    header = [str(cell).strip() for cell in values[0]]
    rows = []
    every = max(1, len(values) // 20)
    for index, cells in enumerate(values[1:], start=HEADER_ROW + 1):
        cells = ["" if cell is None else str(cell) for cell in cells]
        if any(cell.strip() for cell in cells):  # blank lines keep their number but are not rows
            rows.append((index, cells))
        if progress and index % every == 0:
            progress(READ_SHARE + (1 - READ_SHARE) * index / len(values))
    return Table(header=header, rows=rows, excel=excel)


class _ReadingBytes(io.BytesIO):
    """The file's bytes, telling `progress` how far the parser has read into its first sheet. The
    sheet streams out of the zip while openpyxl parses it, so the position in it is the progress.
    A sheet without a <dimension> element (as some writers make them) is scanned once by openpyxl
    for its size before it is parsed: that quick first pass gets a quarter of the bar."""

    def __init__(self, data: bytes, progress: Progress):
        super().__init__(data)
        self._start, self._length, sized = _first_sheet_span(data)
        self._progress, self._weight = progress, 1.0 if sized else 0.25  # of the bar, for the first pass
        self._base, self._shown = 0.0, 0.0  # the bar at this pass's start, the bar now
        self._high = 0  # furthest byte of the sheet read in this pass

    def read(self, size: int | None = -1) -> bytes:
        start = self.tell()
        chunk = super().read(size)
        into = self.tell() - self._start
        if chunk and 0 < into <= self._length:
            if start - self._start + self._length // 10 < self._high:  # a new pass over the sheet
                self._base, self._high, self._weight = self._shown, 0, 1.0
            self._high = max(self._high, into)
            shown = self._base + (1 - self._base) * self._weight * self._high / self._length
            if shown - self._shown >= 0.01:
                self._shown = shown
                self._progress(READ_SHARE * shown)
        return chunk


def _first_sheet_span(data: bytes) -> tuple[int, int, bool]:
    """Where the first sheet's compressed bytes lie in the file (the whole file if unsure), and
    whether it declares its size (a <dimension> before its rows)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            sheets = [info for info in archive.infolist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", info.filename)]
            if not sheets:
                return 0, max(1, len(data)), True
            first = min(sheets, key=lambda info: int(re.sub(r"\D", "", info.filename)))
            with archive.open(first) as xml:
                head = xml.read(4096)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error):
        return 0, max(1, len(data)), True
    sized = b"<dimension" in head.split(b"<sheetData", 1)[0] or b":dimension" in head.split(b"sheetData", 1)[0]
    length = first.compress_size + 30 + len(first.filename) + len(first.extra)  # local header + data
    return first.header_offset, max(1, length), sized


def _too_big(message: str, **values) -> ImportInvalidError:
    return ImportInvalidError([RowError(HEADER_ROW, "", message % values)])


SUFFIXES = (".csv", ".txt", ".xlsx")


def upload_check(data: bytes, file_name: str) -> None:
    """What the upload request itself checks, in milliseconds whatever the file: its type, its
    size and, for an XLSX, the size its sheets expand to (the zip's directory, nothing inflated).
    Counting and parsing the rows is the background read's job (table_read)."""
    suffix = PurePath(file_name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ImportInvalidError([RowError(HEADER_ROW, "", _("Upload a .csv or .xlsx file (this one is %(name)s).")
                                           % {"name": file_name})])
    _size_check(data, suffix)


def _size_check(data: bytes, suffix: str) -> bool:
    """Size and expanded size; False when an .xlsx is not even a zip (the reader says so)."""
    megabytes = settings.IMPORT_MAX_BYTES // (1024 * 1024)
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise _too_big(_("The file is larger than %(limit)s MB; split it into smaller files."), limit=megabytes)
    if suffix == ".xlsx":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                expanded = sum(info.file_size for info in archive.infolist() if info.filename.startswith("xl/"))
        except zipfile.BadZipFile:
            return False
        if expanded > settings.IMPORT_MAX_XLSX_EXPANDED_BYTES:
            raise _too_big(_("The spreadsheet expands to more than %(limit)s MB of data; split it into smaller "
                             "files."), limit=settings.IMPORT_MAX_XLSX_EXPANDED_BYTES // (1024 * 1024))
    return True


def limits_check(data: bytes, suffix: str) -> None:
    """Refuse, before parsing, a file over IMPORT_MAX_BYTES, an XLSX whose sheets expand past
    IMPORT_MAX_XLSX_EXPANDED_BYTES (a zip bomb: 259 KB -> 100,000 rows), or more than
    IMPORT_MAX_ROWS lines: parsing is what costs (27 s of CPU for such an XLSX)."""
    if not _size_check(data, suffix):
        return  # not a zip: the reader reports the damaged file
    if suffix == ".xlsx":
        if _xlsx_declared_rows(data) > settings.IMPORT_MAX_ROWS + 1:
            raise _too_big(_("The file has more than %(limit)s rows; split it into smaller files."),
                           limit=f"{settings.IMPORT_MAX_ROWS:,}")
    elif data.count(b"\n") > settings.IMPORT_MAX_ROWS + 1:
        raise _too_big(_("The file has more than %(limit)s rows; split it into smaller files."),
                       limit=f"{settings.IMPORT_MAX_ROWS:,}")


_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")


def _xlsx_declared_rows(data: bytes) -> int:
    """The first sheet's rows, counted as <row> tags while its XML is decompressed in chunks (no
    cell is parsed): a few milliseconds where parsing the rows costs seconds."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = sorted(name for name in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name))
        if not sheets:
            return 0
        first = min(sheets, key=lambda name: int(re.sub(r"\D", "", name)))
        count, tail = 0, b""
        with archive.open(first) as xml:
            while chunk := xml.read(1 << 20):
                block = tail + chunk
                count += len(_ROW_TAG.findall(block))
                tail = block[-16:]
                count -= len(_ROW_TAG.findall(tail))  # counted again with the next chunk
        return count


def rows_check(table: Table) -> Table:
    if table.row_count > settings.IMPORT_MAX_ROWS:
        raise _too_big(_("The file has more than %(limit)s rows; split it into smaller files."),
                       limit=f"{settings.IMPORT_MAX_ROWS:,}")
    return table


def csv_read(data: bytes, progress: Progress | None = None) -> Table:
    text = _decode(data)
    try:
        # header=None: pandas then refuses a line with more fields than the first one, instead
        # of silently turning the first column into an index or dropping the extra cells.
        frame = pd.read_csv(io.StringIO(text), sep=_delimiter(text), header=None, dtype=str,
                            keep_default_na=False, skip_blank_lines=False, index_col=False)
    except pd.errors.EmptyDataError:
        raise ImportInvalidError([RowError(HEADER_ROW, "", _("The file is empty."))]) from None
    except pd.errors.ParserError as exc:
        raise ImportInvalidError([RowError(HEADER_ROW, "", _("The CSV file cannot be read: %(error)s")
                                      % {"error": exc})]) from None
    if progress:
        progress(READ_SHARE)
    return _frame_to_table(frame, excel=False, progress=progress)


def xlsx_read(data: bytes, progress: Progress | None = None) -> Table:
    source = _ReadingBytes(data, progress) if progress else io.BytesIO(data)
    try:
        frame = pd.read_excel(source, header=None, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for a damaged or foreign file
        raise ImportInvalidError([RowError(HEADER_ROW, "", _("The Excel file cannot be read: %(error)s")
                                      % {"error": exc})]) from None
    return _frame_to_table(frame, excel=True, progress=progress)


def table_read(file: BinaryIO, file_name: str, *, progress: Progress | None = None) -> Table:
    """Read an uploaded .csv or .xlsx file (first sheet) into text cells; `progress` hears how far."""
    suffix = PurePath(file_name).suffix.lower()
    data = file.read()
    limits_check(data, suffix)
    if suffix in (".csv", ".txt"):
        return rows_check(csv_read(data, progress) if progress else csv_read(data))
    if suffix == ".xlsx":
        return rows_check(xlsx_read(data, progress) if progress else xlsx_read(data))
    raise ImportInvalidError([RowError(HEADER_ROW, "", _("Upload a .csv or .xlsx file (this one is %(name)s).")
                                  % {"name": file_name})])
