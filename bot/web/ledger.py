"""Excel and paper on the web (issue #12), thin over workflow.ledger:

    GET  /accounts.xlsx            the registry the member sees (filters: department, platform,
                                   status, q — those of /accounts)
    GET  /filings.xlsx             the filings the member sees (kind, status, department)
    GET  /review/<year>.xlsx       the annual review's progress (office, publicity, admin)
    GET  /assessment/<year>.xlsx   the yearly assessment's figures (office, publicity, admin)
    GET  /audit.xlsx               the audit log, filtered as /audit (office, publicity, admin)
    GET  /accounts/template.xlsx   the blank ledger with its 填写说明
    GET  /accounts/import          the upload form (office, admin)
    POST /accounts/import          file + csrf_token + dry_run=1|0: the per-row report
    GET  /filings/<id>/print       the filing as its printed form (A4 print stylesheet)
    GET  /filings/<id>.docx        the same as a Word document
    GET  /forms/<kind>.docx        a blank form

Downloads are named with the Beijing date (备案台账-2026-12-04.xlsx, RFC 5987 filename*). The
workbooks are written to a temporary file and sent from it in blocks (bot.web.downloads)."""

from __future__ import annotations

import io
from functools import partial
from pathlib import PurePath

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from sqlmodel import Session

from bot.db import get_engine
from bot.notify import unit_of_work
from bot.web.audit_query import conditions, parse_filter
from bot.web.auth import login_required, roles_required
from bot.web.db import clock, read_session
from bot.web.downloads import spooled
from bot.web.users import current_user
from models import AccountStatus, FilingStatus
from workflow import statistics
from workflow.forms import validators as v
from workflow.kinds import KINDS
from workflow.ledger import export, printing
from workflow.ledger.importing import plain, run_import
from workflow.ledger.names import content_disposition, download_name, texts
from workflow.ledger.upload import MAX_BYTES
from workflow.queries import FilingFilters, RegistryFilters, filing_detail
from workflow.uow import Actor

bp = Blueprint("ledger", __name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
UPLOAD_LIMIT = MAX_BYTES + 64 * 1024  # the file and the multipart form around it
IMPORTERS = ("office", "admin")
REVIEWERS = ("office", "publicity", "admin")


def allow_uploads() -> None:
    """Let the import's POST carry a ledger (the app caps other bodies at 64 KiB). Runs before
    CSRF checking, which reads the form."""
    if request.endpoint == "ledger.import_post":
        request.max_content_length = UPLOAD_LIMIT


def attachment(data: bytes, filename: str, mimetype: str) -> Response:
    """A download of `data` named `filename`."""
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response


def workbook(write, *args) -> bytes:
    out = io.BytesIO()
    write(*args, out)
    return out.getvalue()


def today():
    return clock().local_now().date()


def number(args, name: str) -> int | None:
    """An id from the query string (None when absent); a bad one is a 400."""
    text = (args.get(name) or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 9:
        abort(400)
    return int(text)


# --- exports --------------------------------------------------------------------------------
def registry_filters(args) -> RegistryFilters:
    """/accounts' filters from the query string; a value that cannot be read is a 400."""
    platform, status = (args.get("platform") or "").strip(), (args.get("status") or "").strip()
    try:
        code = v.platform(platform) if platform else None
    except v.Invalid:
        abort(400)
    if status and status not in AccountStatus.__members__.values():
        abort(400)
    return RegistryFilters(department_id=number(args, "department"), platform=code,
                           status=AccountStatus(status) if status else None,
                           text=(args.get("q") or "").strip()[:50])


@bp.get("/accounts.xlsx")
@login_required
def accounts_xlsx():
    """The registry as the member's /accounts lists it, every page."""
    write = partial(export.registry_workbook, read_session(), current_user.viewer,
                    registry_filters(request.args))
    return spooled(write, download_name("registry", today()), XLSX)


@bp.get("/filings.xlsx")
@login_required
def filings_xlsx():
    """The filings the member sees; one sheet per kind with every field."""
    kind = (request.args.get("kind") or "").strip() or None
    statuses = tuple(request.args.getlist("status"))
    if (kind and kind not in KINDS) or any(s not in FilingStatus.__members__.values()
                                           for s in statuses):
        abort(400)
    filters = FilingFilters(kind=kind, statuses=tuple(FilingStatus(s) for s in statuses),
                            department_id=number(request.args, "department"))
    write = partial(export.filings_workbook, read_session(), current_user.viewer, filters)
    return spooled(write, download_name("filings", today()), XLSX)


@bp.get("/review/<int:year>.xlsx")
@roles_required(*REVIEWERS)
def review_xlsx(year: int):
    """The review campaign's progress for `year`."""
    if not 2000 <= year <= today().year:
        abort(404)
    write = partial(export.review_workbook, read_session(), year)
    return spooled(write, download_name("review", today(), "xlsx", str(year)), XLSX)


@bp.get("/assessment/<int:year>.xlsx")
@roles_required(*REVIEWERS)
def assessment_xlsx(year: int):
    """The yearly assessment (art. 16) of `year`, as /assessment/<year> shows it."""
    if not 2000 <= year <= today().year:
        abort(404)
    due = statistics.review_due(current_app.config["SETTINGS"].review_window, year)
    write = partial(export.assessment_workbook, read_session(), year, due)
    return spooled(write, download_name("assessment", today(), "xlsx", str(year)), XLSX)


@bp.get("/audit.xlsx")
@roles_required(*REVIEWERS)
def audit_xlsx():
    """The audit log as /audit filters it, every page."""
    flt, problems = parse_filter(request.args)
    if problems:
        abort(400)
    write = partial(export.audit_workbook, read_session(), conditions(flt))
    return spooled(write, download_name("audit", today()), XLSX)


@bp.get("/accounts/template.xlsx")
@login_required
def template_xlsx():
    """The blank ledger: the export's columns and how to fill them in."""
    return attachment(workbook(export.template_workbook), download_name("template", today()),
                      XLSX)


# --- import ---------------------------------------------------------------------------------
@bp.get("/accounts/import")
@roles_required(*IMPORTERS)
def import_page():
    """The upload form, and how headers are read."""
    return render_template("web/ledger/import.html", report=None, problem=None, **page_words())


@bp.post("/accounts/import")
@roles_required(*IMPORTERS)
def import_post():
    """Check (dry_run=1, the default) or apply (dry_run=0) an uploaded ledger."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("web/ledger/import.html", report=None, problem="no_file",
                               **page_words()), 400
    data = upload.stream.read(MAX_BYTES + 1)  # the size check needs no more
    name = PurePath(upload.filename.replace("\\", "/")).name[:100] or "ledger.xlsx"
    # dry_run=0 applies; 1 (the page's checkbox, sent after its hidden 0), or none, only checks.
    flags = request.form.getlist("dry_run")
    dry_run = not flags or "1" in flags
    app = current_app._get_current_object()
    actor = Actor(current_user.userid, current_user.name)
    # A dry run reads in a read-only transaction: on SQLite the bot keeps answering meanwhile.
    session = Session(get_engine().execution_options(read_only=True)) if dry_run else None
    with unit_of_work(app, actor=actor, session=session) as uow:
        report = run_import(uow, data, name, dry_run=dry_run)
    return render_template("web/ledger/import.html", report=report, problem=None, plain=plain,
                           **page_words()), 400 if report.error else 200


def page_words() -> dict:
    """What the import page lists: the columns and the other names of each."""
    from workflow.ledger.columns import ALIASES, registry_columns

    return {"columns": [(c, ALIASES.get(c.key, ())) for c in registry_columns()],
            "max_rows": 20_000, "max_mb": MAX_BYTES // 2**20}


# --- paper ----------------------------------------------------------------------------------
def detail_or_404(filing_id: int):
    detail = filing_detail(read_session(), current_user.viewer, filing_id)
    if detail is None:
        abort(404)
    return detail


def school() -> str:
    return printing.school_of(current_app.config["SETTINGS"])


@bp.get("/filings/<int:filing_id>/print")
@login_required
def print_filing(filing_id: int):
    """The filing as its printed form: A4, the regulation's title, boxes to sign and stamp."""
    shown = printing.printable(detail_or_404(filing_id), school=school())
    return render_template("print/filing.html", shown=shown, words=texts().printed,
                           docx_url=url_for("ledger.filing_docx", filing_id=filing_id),
                           back_url=url_for("auth.index"))


@bp.get("/filings/<int:filing_id>.docx")
@login_required
def filing_docx(filing_id: int):
    """The filing's printed form as a Word document."""
    detail = detail_or_404(filing_id)
    doc = printing.filing_document(detail, school=school())
    return attachment(workbook(printing.save, doc),
                      printing.file_name(detail.filing.kind, today(), filing_id), DOCX)


@bp.get("/forms/<kind>.docx")
@login_required
def blank_docx(kind: str):
    """A blank form of `kind` to fill in by hand."""
    if kind not in KINDS:
        abort(404)
    doc = printing.blank_document(kind, school=school())
    return attachment(workbook(printing.save, doc), printing.file_name(kind, today()), DOCX)
