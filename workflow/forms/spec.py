"""Forms as data: a FormSpec is the ordered fields of one filing kind (SPEC §3).

One Field line drives everything: the question asked step by step, the `字段：值` line of the
one-shot form and its blank template, the summary, and later the approval card and the
printed form. `kind` names the rule that reads an answer (see handlers/forms/answers.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str  # key in Filing.fields
    label: str  # exact label of the one-shot form and the printed form
    # kind: platform | account_id | url | phone | year | count | yes_no | text | person | account
    # | safety | month
    kind: str
    question: str  # what the bot asks, step by step
    optional: bool = False
    max_len: int = 100
    on_card: bool = True  # shown as a key/value row on approval cards
    multiline: bool = False  # free text that may run over several lines (理由, 说明 …)


@dataclass(frozen=True)
class FormSpec:
    kind: str  # Filing.kind
    command: str  # the Chinese command word
    aliases: tuple[str, ...]
    title: str  # e.g. 账号登记 (附表1)
    fields: tuple[Field, ...]
    per_department: bool = True  # False: 举报 belongs to no department

    def field(self, name: str) -> Field:
        """The field called `name`."""
        return next(f for f in self.fields if f.name == name)

    def by_label(self, label: str) -> Field | None:
        """The field whose one-shot label is `label` (None when unknown)."""
        return next((f for f in self.fields if f.label == label), None)

    def missing(self, answers: dict) -> list[Field]:
        """Required fields without an answer, in form order."""
        return [f for f in self.fields if f.name not in answers and not f.optional]

    def unasked(self, answers: dict, skipped: list[str]) -> list[Field]:
        """Fields neither answered nor skipped, in form order (optional ones included)."""
        return [f for f in self.fields if f.name not in answers and f.name not in skipped]
