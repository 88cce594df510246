"""The one-shot form: a command line, then `字段：值` lines (SPEC §4)."""

from __future__ import annotations

import re

from workflow.forms.spec import FormSpec

LINE = re.compile(r"^\s*([^:：]{1,16}?)\s*[:：]\s*(.*?)\s*$")
OPTIONAL_MARK = "（选填）"


def parse_lines(form: FormSpec, lines: list[str]) -> tuple[dict[str, str], list[str], list[str]]:
    """Raw answers by field name, unknown labels, and lines that are not `字段：值` at all."""
    raw, unknown, stray = {}, [], []
    for line in lines:
        if not line.strip():
            continue
        match = LINE.match(line)
        if not match:
            stray.append(line.strip())
            continue
        label, value = match.group(1).strip().removesuffix(OPTIONAL_MARK).strip(), match.group(2)
        field = form.by_label(label)
        if field is None:
            unknown.append(label)
        elif value:
            raw[field.name] = value
    return raw, unknown, stray


def blank_template(form: FormSpec) -> str:
    """The form to copy and fill in: the command, then one `字段：` line per field."""
    return "\n".join([form.command] + [
        f"{f.label}{OPTIONAL_MARK if f.optional else ''}：" for f in form.fields])
