"""Every user-facing text and card comes from a Jinja2 template under templates/."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from bot.words import fit

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


class Rendered(str):
    """Text already rendered from a template: put into another template as it is."""


def escape_value(value):
    """Every value a message template shows is escaped for WeCom's text format, which renders
    `<a href>` (doc 90236): a user's `<a href=…>点此审批</a>` reaches others as text, not a link.
    Text rendered already (Rendered) is not escaped twice."""
    if isinstance(value, str) and not isinstance(value, Rendered | Markup):  # Markup: tojson
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared Jinja environment: strict (a missing variable is a bug); every value shown in
    a message is escaped for the text format (cards are JSON and use `tojson`)."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES_DIR)]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
        auto_reload=False,  # templates ship with the code: no stat() per message
        finalize=escape_value,
    )
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    env.filters["fit"] = fit  # a name cut where a word ends, for card buttons
    return env


def add_templates(folder: str | Path) -> None:
    """Look for templates in `folder` too (after templates/): a filing kind added from outside
    the package brings its own messages (workflow.kinds.register_kind)."""
    env = environment()
    env.loader.loaders.append(FileSystemLoader(folder))
    env.cache.clear()


def render_text(name: str, **context) -> str:
    """Render templates/messages/<name>.txt.j2 to a message text."""
    return Rendered(environment().get_template(f"messages/{name}.txt.j2").render(**context)
                    .strip())


def render_card(name: str, **context) -> dict:
    """Render templates/cards/<name>.json.j2 to a template_card dict."""
    return json.loads(environment().get_template(f"cards/{name}.json.j2").render(**context))
