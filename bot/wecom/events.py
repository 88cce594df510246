"""Event types wechatpy 1.8 does not know, registered through its own `register_event` hook.

模板卡片事件推送: https://developer.work.weixin.qq.com/document/path/90240 (third-party copy 90376).
"""

from __future__ import annotations

from wechatpy.enterprise.events import register_event
from wechatpy.events import BaseEvent
from wechatpy.fields import BaseField, IntegerField, StringField


@register_event("template_card_event")  # wechatpy looks event types up in lowercase
class TemplateCardEvent(BaseEvent):
    """A tap on a button of a template card; `key` is the button key, `task_id` the card's."""

    event = "template_card_event"
    agent = IntegerField("AgentID", 0)
    key = StringField("EventKey", "")
    task_id = StringField("TaskId", "")
    card_type = StringField("CardType", "")
    response_code = StringField("ResponseCode", "")
    selected_items_raw = BaseField("SelectedItems", None)


@register_event("template_card_menu_event")
class TemplateCardMenuEvent(TemplateCardEvent):
    """A tap on the top-right action menu of a template card (same fields)."""

    event = "template_card_menu_event"
