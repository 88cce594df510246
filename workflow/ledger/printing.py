"""Printable forms (issue #12 §3): a filing as the regulation's form in Word — 附表1 登记表,
附表2 申请表, 附表3 年度审核表 (西电大发〔2016〕4号), the other kinds under a title of their
own — with every field, the 备案编号, the decision trail, and the boxes the department signs and
stamps; and a blank form per kind for those who still fill one in by hand.

Titles, notes and box captions are in templates/ledger/_names.j2 (`forms`, `printed`); the web
page /filings/<id>/print shows the same words."""

from __future__ import annotations

from dataclasses import dataclass

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from bot.clock import SHANGHAI
from workflow.forms.validators import PLATFORMS
from workflow.kinds import KINDS
from workflow.ledger.names import download_name, labels, texts
from workflow.queries import FilingDetail

FONT = "宋体"  # SimSun: what Chinese offices print forms in
BOX = "□"


@dataclass(frozen=True)
class FormTitle:
    annex: str  # 附表1 … ("" for kinds the regulation has no annex for)
    short: str  # 官方账号登记表
    title: str  # 西安广播电视大学各级官方微博、微信登记表
    note: str  # the regulation's note under the form


def form_title(kind_name: str, school: str) -> FormTitle:
    """The printed form's annex number, titles and note for a filing kind."""
    words = texts().forms.get(kind_name)
    if words is None:  # a kind added by register_kind: its form's own title
        title = KINDS[kind_name].form.title
        return FormTitle("", title, f"{school}{title}", "")
    return FormTitle(words["annex"], words["short"], words["title"].format(school=school),
                     words["note"])


def school_of(settings) -> str:
    """The school's full name (SCHOOL_NAMES' first)."""
    return settings.school_names[0] if settings.school_names else ""


def file_name(kind_name: str, today, filing_id: int | None = None) -> str:
    """附表1官方账号登记表-12-2026-12-04.docx (a filing) or …-2026-12-04.docx (blank)."""
    title = form_title(kind_name, "")
    extra = (str(filing_id),) if filing_id else ()
    return download_name(f"{title.annex}{title.short}", today, "docx", *extra)


# --- what a printed filing shows ------------------------------------------------------------
@dataclass(frozen=True)
class Printable:
    """A filing as its printed form shows it: the Word document and the print page render it."""

    title: FormTitle
    head: list[tuple[str, str]]  # 备案编号, 事项编号, 部门, 填表人, 填表日期, 当前状态
    rows: list[tuple[str, str]]  # every field of the form (filing_detail's rows)
    decisions: list[tuple[str, str, str, str, str]]  # stage, outcome, decider, reason, time


def printable(detail: FilingDetail, *, school: str) -> Printable:
    """What the printed form of `detail` shows, as text."""
    words = texts().printed
    filing, account = detail.filing, detail.account
    head = [(words["filing_no"], (account.filing_no if account else None)
             or words["filing_no_blank"]),
            (words["filing"], f"#{filing.id}"),
            (words["department"], detail.department),
            (words["submitter"], detail.submitter),
            (words["submitted"], local(filing.created_at, "%Y-%m-%d")),
            (words["status"], labels().statuses.get(filing.status, filing.status))]
    decisions = [(d.stage, d.choice, d.decider, d.reason or "", local(d.at, "%Y-%m-%d %H:%M"))
                 for d in detail.decisions]
    return Printable(form_title(filing.kind, school), head, list(detail.rows), decisions)


# --- documents ------------------------------------------------------------------------------
def filing_document(detail: FilingDetail, *, school: str):
    """The filing as its printed form, filled in."""
    shown = printable(detail, school=school)
    doc = new_document(shown.title)
    field_table(doc, shown.head + shown.rows)
    trail(doc, shown.decisions)
    sign_boxes(doc)
    closing_note(doc, shown.title)
    return doc


def blank_document(kind_name: str, *, school: str):
    """The kind's form with every field left blank (choices as boxes to tick)."""
    words = texts().printed
    kind = KINDS[kind_name]
    title = form_title(kind_name, school)
    doc = new_document(title)
    hint = doc.add_paragraph(words["blank_hint"])
    hint.runs[0].font.size = Pt(9)
    rows = [(words["filing_no"], words["filing_no_blank"]), (words["department"], ""),
            (words["submitter"], ""), (words["submitted"], words["date_line"])]
    for f in kind.form.fields:
        if f.kind == "platform":
            rows.append((f.label, "　".join(f"{BOX}{name}" for _code, name in PLATFORMS)))
        elif f.kind == "yes_no":
            rows.append((f.label, f"{BOX}是　　{BOX}否"))
        else:
            rows.append((f.label, ""))
    field_table(doc, rows, blank=True)
    sign_boxes(doc)
    closing_note(doc, title)
    return doc


def new_document(title: FormTitle):
    """An A4 document in 宋体 with the form's annex number and title."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin = section.bottom_margin = Cm(2)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(11)
    # Word picks CJK glyphs from the East Asian font slot, which python-docx has no
    # property for: set it on the rFonts that font.name just wrote (plain lxml on the
    # style's public `element`).
    normal.element.find(qn("w:rPr")).find(qn("w:rFonts")).set(qn("w:eastAsia"), FONT)
    doc.core_properties.title = f"{title.annex} {title.short}".strip()
    if title.annex:
        annex = doc.add_paragraph()
        annex.add_run(title.annex).bold = True
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(title.title)
    run.bold = True
    run.font.size = Pt(16)
    return doc


def field_table(doc, rows: list[tuple[str, str]], blank: bool = False) -> None:
    """Label | value rows in a bordered table (blank: room to write by hand)."""
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].width, cells[1].width = Cm(3.6), Cm(13)
        cells[0].paragraphs[0].add_run(label).bold = True
        cells[1].text = value or ""
        if blank:
            table.rows[-1].height = Cm(1.1)


def trail(doc, decisions: list[tuple[str, str, str, str, str]]) -> None:
    """The decisions taken so far: stage, outcome, who, why, when."""
    words = texts().printed
    caption = doc.add_paragraph()
    caption.add_run(words["trail"]).bold = True
    if not decisions:
        doc.add_paragraph(words["no_decision"])
        return
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    for cell, key in zip(table.rows[0].cells, ("stage", "decision", "decider", "reason", "at"),
                         strict=True):
        cell.paragraphs[0].add_run(words[key]).bold = True
    for decision in decisions:
        for cell, value in zip(table.add_row().cells, decision, strict=True):
            cell.text = value


def sign_boxes(doc) -> None:
    """Two boxes side by side: 部门负责人签字 and 部门盖章, each with a date line."""
    words = texts().printed
    doc.add_paragraph()
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.rows[0].height = Cm(4.5)
    for cell, key in zip(table.rows[0].cells, ("sign_head", "stamp"), strict=True):
        cell.width = Cm(8.3)
        cell.paragraphs[0].add_run(f"{words[key]}：").bold = True
        for _ in range(4):
            cell.add_paragraph()
        date = cell.add_paragraph(words["date_line"])
        date.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def closing_note(doc, title: FormTitle) -> None:
    if title.note:
        note = doc.add_paragraph(title.note)
        note.runs[0].font.size = Pt(9)


def local(moment, pattern: str) -> str:
    return moment.astimezone(SHANGHAI).strftime(pattern) if moment else ""


def save(doc, out) -> None:
    """Write the document to a path or a binary file object."""
    doc.save(out)
