"""Writing sheets with openpyxl's write-only mode: rows are streamed to the file as they are
read, so a 20,000-row registry never sits in memory as cells.

Every sheet has its headers in row 1 (bold, frozen, filterable), column widths set before the
first row (write-only sheets take no column style afterwards), dates as real Excel dates in
Beijing time, and text that looks like a formula (=HYPERLINK(…), +…, -…, @…) written as text
with Excel's quote prefix, so it is never evaluated, not even after the cell is edited."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from bot.clock import SHANGHAI

FORMULA_FIRST = frozenset("=+-@\t\r")  # a text starting so is taken for a formula
TIME_FORMAT = "yyyy-mm-dd hh:mm"
MAX_CELL = 32_767  # Excel's limit on the characters of one cell


@dataclass(frozen=True)
class Header:
    """A column: its header text and width (in characters)."""

    text: str
    width: int = 14


def workbook() -> Workbook:
    """An empty write-only workbook."""
    return Workbook(write_only=True)


def add_sheet(book: Workbook, title: str, headers: Sequence[Header],
              rows: Iterable[Sequence]) -> int:
    """A sheet of `headers` and `rows`, written as the rows are iterated; the rows written."""
    sheet = book.create_sheet(title=title[:31])  # Excel allows 31 characters
    for index, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = header.width
    sheet.freeze_panes = "A2"
    if headers:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}1"
    bold = Font(bold=True)
    head = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=header.text)
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center")
        head.append(cell)
    sheet.append(head)
    count = 0
    for row in rows:
        sheet.append([cell_of(sheet, value) for value in row])
        count += 1
    return count


def cell_of(sheet, value):
    """What one value becomes in a write-only row: nothing for an empty text (no cell is
    written), a datetime cell in Beijing time, text that looks like a formula kept as text, or
    the value as is (openpyxl's own format for a date is yyyy-mm-dd). Plain values are much
    cheaper to write than cells, so a cell is made only where a style is needed."""
    if type(value) is str:  # the common case first: most values are text
        if not value:
            return None
        if value[0] in FORMULA_FIRST:
            return text_cell(sheet, value[:MAX_CELL])
        return value if len(value) <= MAX_CELL else value[:MAX_CELL]
    if isinstance(value, datetime):
        local = value.astimezone(SHANGHAI).replace(tzinfo=None) if value.tzinfo else value
        cell = WriteOnlyCell(sheet, value=local)
        cell.number_format = TIME_FORMAT
        return cell
    if isinstance(value, str):  # a str subclass (an enum): its text, not str()'s "Kind.NAME"
        return cell_of(sheet, str.__str__(value))
    return value


def text_cell(sheet, value: str):
    """`value` as a text cell that Excel shows as typed and never evaluates."""
    cell = WriteOnlyCell(sheet)
    cell.value = value  # openpyxl takes a leading "=" for a formula …
    cell.data_type = "s"  # … so the type is set back to text after it
    cell.quotePrefix = True  # Excel's own "typed with a leading apostrophe" flag
    return cell
