"""Passive replies: text via wechatpy, the card-update reply wechatpy 1.8 lacks, and what a
handler's reply becomes (a passive reply, or outbox messages when it cannot be one).

被动回复消息格式 / 模板卡片更新消息: https://developer.work.weixin.qq.com/document/path/90241
"""

from __future__ import annotations

import time
from xml.sax.saxutils import escape

from wechatpy.enterprise.replies import TextReply
from wechatpy.fields import StringField
from wechatpy.utils import to_text

from bot.render import Rendered

PASSIVE_TEXT_LIMIT = 2048  # bytes of UTF-8 (doc 90241)


class CDataField(StringField):
    """A CDATA field that stays well-formed whatever the text.

    wechatpy's StringField puts the text in `<![CDATA[...]]>` as is, so a `]]>` inside it ends
    the section early and WeCom cannot parse the reply. Each `]]>` is split across two sections
    (`]]` ends one, `>` starts the next): a parser joins them back into the original text."""

    def to_xml(self, value):
        """`<Name><![CDATA[value]]></Name>`, with every `]]>` in value split."""
        text = self.converter(value).replace("]]>", "]]]]><![CDATA[>")
        return f"<{self.name}><![CDATA[{text}]]></{self.name}>"


class SafeTextReply(TextReply):
    """wechatpy's enterprise text reply, its string fields declared as CDataField."""

    source = CDataField("FromUserName")
    target = CDataField("ToUserName")
    content = CDataField("Content")


def text_reply_xml(content: str, message) -> str:
    """Plaintext XML of a passive text reply to `message`."""
    return SafeTextReply(message=message, content=content).render()


def update_button_reply_xml(replace_name: str, message) -> str:
    """Plaintext XML that greys out the tapped button of the tapper's own card.

    Built with escaped text: wechatpy 1.8 has no reply class for this message type.
    """
    return (
        "<xml>"
        f"<ToUserName>{escape(to_text(message.source))}</ToUserName>"
        f"<FromUserName>{escape(to_text(message.target))}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        "<MsgType>update_button</MsgType>"
        f"<Button><ReplaceName>{escape(replace_name)}</ReplaceName></Button>"
        "</xml>"
    )


def fits_passive(content: str) -> bool:
    """Whether `content` fits in one passive text reply."""
    return len(content.encode("utf-8")) <= PASSIVE_TEXT_LIMIT


def split_utf8(content: str, limit: int = PASSIVE_TEXT_LIMIT) -> list[str]:
    """Split text into chunks of at most `limit` UTF-8 bytes, at line breaks where possible."""
    chunks, current = [], ""
    for line in content.splitlines(keepends=True):
        while len(line.encode("utf-8")) > limit:  # a single overlong line: cut on characters
            cut = limit
            while len(line[:cut].encode("utf-8")) > limit:
                cut -= 1
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:cut])
            line = line[cut:]
        if len((current + line).encode("utf-8")) > limit:
            chunks.append(current)
            current = ""
        current += line
    if current:
        chunks.append(current)
    return [c.rstrip("\n") for c in chunks if c.strip()]


def render_reply(ctx, message) -> str:
    """The passive reply; text over 2048 bytes goes through the outbox in several parts.

    A card tap may only be answered passively with a card update (doc 90241), so any text
    for it goes through the outbox."""
    is_card_event = message.type == "event" and message.event.startswith("template_card")
    if ctx.reply_button is not None or is_card_event:
        if ctx.reply_text:
            for part in split_utf8(ctx.reply_text):
                ctx.send([ctx.userid], "raw", text=Rendered(part))
        return update_button_reply_xml(ctx.reply_button, message) if ctx.reply_button else ""
    if not ctx.reply_text:
        return ""
    if fits_passive(ctx.reply_text):
        return text_reply_xml(ctx.reply_text, message)
    for part in split_utf8(ctx.reply_text):
        ctx.send([ctx.userid], "raw", text=Rendered(part))
    return ""
