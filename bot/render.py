"""Every user-facing text and card comes from a Jinja2 template under templates/."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared Jinja environment: strict (a missing variable is a bug), no autoescape."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
        auto_reload=False,  # templates ship with the code: no stat() per message
    )
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    return env


def render_text(name: str, **context) -> str:
    """Render templates/messages/<name>.txt.j2 to a message text."""
    return environment().get_template(f"messages/{name}.txt.j2").render(**context).strip()


def render_card(name: str, **context) -> dict:
    """Render templates/cards/<name>.json.j2 to a template_card dict."""
    return json.loads(environment().get_template(f"cards/{name}.json.j2").render(**context))
