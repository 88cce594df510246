"""A text is rendered from its context as it is when rendered (bot.render): nothing stale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from types import SimpleNamespace

from bot.context import Sender
from bot.render import render_text


@dataclass(frozen=True)
class FrozenHolder:
    name: list  # a frozen dataclass can still hold something mutable


def test_a_mutable_context_is_rendered_afresh():
    user = SimpleNamespace(name="张三")
    assert render_text("help/full", user=user).startswith("张三，")
    user.name = "张三丰"
    assert render_text("help/full", user=user).startswith("张三丰，")


def test_a_frozen_object_holding_a_mutable_value_is_rendered_afresh():
    name = ["张三"]
    holder = FrozenHolder(name=name)
    assert render_text("help/full", user=holder).startswith("['张三']，")
    name.append("李四")
    assert render_text("help/full", user=holder).startswith("['张三', '李四']，")


def test_an_immutable_context_renders_per_value():
    synced = datetime(2026, 11, 25, tzinfo=timezone.utc)
    zhang = Sender(userid="zhangsan", name="张三", looked_up=True, synced_at=synced)
    renamed = Sender(userid="zhangsan", name="张三丰", looked_up=True, synced_at=synced)
    assert render_text("help/full", user=zhang).startswith("张三，")
    assert render_text("help/full", user=renamed).startswith("张三丰，")
    assert render_text("help/full", user=zhang) == render_text("help/full", user=zhang)
    assert render_text("help/menu", user=zhang, unknown="你好") != render_text(
        "help/menu", user=zhang, unknown="再见")


def test_equal_values_of_different_types_render_differently():
    assert "“1”" in render_text("help/menu", unknown=1)
    assert "“True”" in render_text("help/menu", unknown=True)
