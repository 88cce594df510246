"""Reading an uploaded ledger safely: size and row limits, a real .xlsx, no zip bomb.

The zip's directory is checked before openpyxl opens anything: a workbook of 20,000 rows is
a few MB of XML, so a file that claims far more uncompressed bytes (or an absurd compression
ratio) is refused. Python's zipfile never inflates an entry past the size it declares (and
checks its CRC), so the declared sizes bound what openpyxl can read. Inside, openpyxl reads a
sheet with the standard library's expat (2.4 and later cap entity amplification, and external
entities are never fetched) and the workbook's other parts with defusedxml (a dependency)."""

from __future__ import annotations

import io
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time

from openpyxl import load_workbook

from bot.render import render_text
from workflow.ledger.columns import column_of, header_lookup, registry_columns
from workflow.ledger.names import texts

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_UNPACKED = 200 * 1024 * 1024  # all entries together, as the zip declares them
MAX_ENTRIES = 1_000
MAX_RATIO = 200  # deflate rarely beats 100:1 on a sheet's XML; bombs reach 1000:1
HEADER_ROWS = 10  # the header may sit under a title row or two
MAX_SCANNED = 10 * MAX_ROWS  # rows read, blank ones included
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and password-protected .xlsx


class LedgerFileError(ValueError):
    """A file refused as a whole; .message says why, in Chinese."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code, self.params = code, params

    @property
    def message(self) -> str:
        """What is wrong with the file and what to do."""
        return render_text("ledger/file_error", code=self.code, **self.params)


@dataclass(frozen=True)
class LedgerRow:
    """A data row: its row number in the sheet and its cells as text, by column key."""

    number: int
    cells: dict[str, str]


@dataclass
class LedgerFile:
    """An uploaded ledger: the columns found and the rows under the header."""

    name: str
    sheet: str
    columns: dict[str, str]  # column key → header as written in the file
    rows: list[LedgerRow]
    unknown: list[str] = field(default_factory=list)  # headers not understood (ignored)


def read_ledger(data: bytes, name: str) -> LedgerFile:
    """The rows of an uploaded .xlsx ledger; raise LedgerFileError for a file refused whole."""
    check_container(data)
    try:
        with warnings.catch_warnings():
            # Excel and WPS extensions openpyxl does not keep (data validation, slicers …)
            # raise UserWarnings; they change nothing we read.
            warnings.simplefilter("ignore")
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises KeyError, ValueError, XML errors …: all mean "broken"
        raise LedgerFileError("broken") from None
    try:
        return read_sheet(book, name)
    except LedgerFileError:
        raise
    except Exception:  # a sheet whose XML breaks off halfway
        raise LedgerFileError("broken") from None
    finally:
        book.close()


def check_container(data: bytes) -> None:
    """Refuse what is not a plain .xlsx zip of a sane unpacked size."""
    if not data:
        raise LedgerFileError("empty")
    if len(data) > MAX_BYTES:
        raise LedgerFileError("too_big", size_mb=f"{len(data) / 2**20:.1f}",
                              max_mb=MAX_BYTES // 2**20)
    if data.startswith(OLE_MAGIC):
        raise LedgerFileError("old_xls")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise LedgerFileError("not_xlsx") from None
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise LedgerFileError("not_xlsx")
    if any(entry.flag_bits & 0x1 for entry in entries):
        raise LedgerFileError("not_xlsx")  # encrypted entries: not something Excel writes
    unpacked = sum(entry.file_size for entry in entries)
    too_dense = any(entry.file_size > 2**20
                    and entry.file_size > MAX_RATIO * max(entry.compress_size, 1)
                    for entry in entries)
    if unpacked > MAX_UNPACKED or too_dense or len(entries) > MAX_ENTRIES:
        raise LedgerFileError("bomb", unpacked_mb=f"{unpacked / 2**20:.0f}",
                              max_mb=MAX_UNPACKED // 2**20)


def read_sheet(book, name: str) -> LedgerFile:
    """The ledger sheet (named 备案台账, else the first): header, then rows as text."""
    wanted = texts().sheets["registry"]
    sheets = book.worksheets
    if not sheets:
        raise LedgerFileError("broken")
    sheet = next((s for s in sheets if s.title == wanted), sheets[0])
    rows = sheet.iter_rows(values_only=True)
    lookup = header_lookup()
    scanned, best = [], None
    for _ in range(HEADER_ROWS):
        values = next(rows, None)
        if values is None:
            break
        scanned.append(values)
        found = {index: column_of(value, lookup) for index, value in enumerate(values)
                 if value is not None and column_of(value, lookup)}
        if len(set(found.values())) >= 2 and (best is None or len(found) > len(best[1])):
            best = (len(scanned), found)
    if best is None:
        raise LedgerFileError("no_header", sheet=sheet.title, rows=HEADER_ROWS,
                              expected=[c.header for c in registry_columns() if c.required])
    header_at, found = best
    header = scanned[header_at - 1]
    positions, columns = {}, {}
    for index, key in sorted(found.items()):
        if key not in positions:  # a second column of the same name is ignored
            positions[key], columns[key] = index, str(header[index]).strip()
    unknown = [str(v).strip() for i, v in enumerate(header)
               if v is not None and str(v).strip() and i not in positions.values()]
    missing = [c.header for c in registry_columns() if c.required and c.key not in positions]
    if missing:
        raise LedgerFileError("missing_columns", columns=missing,
                              expected=[c.header for c in registry_columns()])
    # Rows scanned past the header while looking for it are data too.
    pending = [(number, values) for number, values in enumerate(scanned, start=1)
               if number > header_at]
    data_rows: list[LedgerRow] = []
    number = len(scanned)

    def take(row_number: int, values) -> None:
        cells = {key: text_of(values[index]) if index < len(values) else ""
                 for key, index in positions.items()}
        if any(cells.values()):
            if len(data_rows) >= MAX_ROWS:
                raise LedgerFileError("too_many_rows", max_rows=MAX_ROWS)
            data_rows.append(LedgerRow(row_number, cells))

    for row_number, values in pending:
        take(row_number, values)
    for values in rows:
        number += 1
        if number > MAX_SCANNED:
            raise LedgerFileError("too_many_rows", max_rows=MAX_ROWS)
        take(number, values)
    if not data_rows:
        raise LedgerFileError("no_rows")
    return LedgerFile(name=name, sheet=sheet.title, columns=columns, rows=data_rows,
                      unknown=unknown)


def text_of(value) -> str:
    """A cell as the text a person typed: numbers without a trailing .0, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else \
            value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date | time):
        return value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()
