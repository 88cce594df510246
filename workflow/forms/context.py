"""What reading a form answer needs besides the text, and its one outcome besides a value
or `Invalid`: several matches, for the user to pick one by number."""

from __future__ import annotations

from dataclasses import dataclass


class NeedsChoice(Exception):
    """The answer matches several things: ask the user to pick one by number."""

    def __init__(self, prompt: str, options: list[tuple[str, object]]):
        super().__init__(prompt)
        self.prompt, self.options = prompt, options  # [(shown text, value)]


@dataclass
class FormContext:
    """What reading an answer may need besides the text."""

    session: object
    userid: str
    department_id: int | None
    today: object  # date
    answers: dict
