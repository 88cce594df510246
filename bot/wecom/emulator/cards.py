"""What WeCom checks in a template_card before sending it (发送应用消息, doc 90236, 模板卡片消息).

Counts and byte lengths are hard limits; the "字" lengths in the doc are recommendations
(建议不超过) and are not enforced, as WeCom does not enforce them either.
"""

from __future__ import annotations

import re

CARD_TYPES = {"text_notice", "news_notice", "button_interaction", "vote_interaction",
              "multiple_interaction"}
INTERACTIVE = {"button_interaction", "vote_interaction", "multiple_interaction"}
TASK_ID = re.compile(r"[0-9A-Za-z_\-@]+")


class CardError(Exception):
    """A card WeCom would refuse, with WeCom's errcode."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(errmsg)
        self.errcode, self.errmsg = errcode, errmsg


def validate_card(card: dict) -> None:
    """Raise CardError where WeCom would answer with an error code."""
    if not isinstance(card, dict) or card.get("card_type") not in CARD_TYPES:
        raise CardError(40058, "invalid template_card.card_type")
    task_id = card.get("task_id")
    if card["card_type"] in INTERACTIVE or "action_menu" in card:
        # 42014: "taskid has existed or empty or exceed max len"
        # (task_id: digits, letters, _-@, ≤128 bytes)
        if not task_id or len(str(task_id).encode()) > 128 or not TASK_ID.fullmatch(str(task_id)):
            raise CardError(42014, "invalid task_id: empty, over 128 bytes or bad characters")
    if card["card_type"] == "button_interaction":
        buttons = card.get("button_list")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
            raise CardError(40058, "button_list must hold 1 to 6 buttons")
        keys = set()
        for button in buttons:
            if not button.get("text"):
                raise CardError(40058, "button text missing")
            if button.get("type", 0) == 1:
                if not str(button.get("url", "")).startswith(("http://", "https://")):
                    raise CardError(40058, "url button needs an http(s) url")
                continue
            key = str(button.get("key", ""))
            if not key or len(key.encode()) > 1024 or key in keys:
                raise CardError(40058, "button key missing, over 1024 bytes or not unique")
            keys.add(key)
            if button.get("style", 1) not in (1, 2, 3, 4):
                button["style"] = 1  # out-of-range style is shown as style 1, not refused
    action = card.get("card_action")
    if action is not None and action.get("type") == 1 \
            and not str(action.get("url", "")).startswith(("http://", "https://")):
        raise CardError(40058, "card_action of type 1 needs an http(s) url")
    if not (card.get("main_title") or {}).get("title") and card["card_type"] != "news_notice":
        raise CardError(40058, "main_title.title missing")
    rows = card.get("horizontal_content_list", [])
    if not isinstance(rows, list) or len(rows) > 6:
        raise CardError(40058, "horizontal_content_list holds at most 6 items")
    for row in rows:
        if not row.get("keyname"):
            raise CardError(40058, "horizontal_content_list item needs keyname")


def button_keys(card: dict) -> list[str]:
    """The callback keys of a card's buttons, in order."""
    return [b["key"] for b in card.get("button_list", []) if b.get("type", 0) != 1]
