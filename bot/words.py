"""Shortening a name to fit a card's button (≤ 10 characters, doc 90236) where a word ends,
not inside one ("年检：西安电大开放教" names nothing)."""

from __future__ import annotations

# Words that end a unit's or an account's name: a cut right after one leaves whole words.
WORD_ENDS = ("学院", "大学", "学校", "中心", "办公室", "研究所", "研究院", "图书馆", "委员会",
             "部", "处", "办", "系", "馆", "站", "团委", "工会", "官方", "官微", "微博", "微信",
             "公众号", "视频号", "抖音", "快手")
SEPARATORS = " ·-_|/（）()【】"


def fit(text: str, limit: int, drop=()) -> str:
    """`text` in at most `limit` characters. Words in `drop` go first (the school's names:
    every official account carries one, art. 2, so they tell accounts apart least); what is
    still too long is cut after its last whole word that fits, with "…"."""
    text = text.strip()
    for word in sorted(drop, key=len, reverse=True):
        if len(text) <= limit:
            break
        shorter = text.replace(word, "", 1).strip(SEPARATORS)
        if shorter:
            text = shorter
    if len(text) <= limit:
        return text
    room = limit - 1  # for the "…"
    cut = max((i for i in range(1, room + 1) if word_ends_at(text, i)), default=room)
    return text[:cut].rstrip(SEPARATORS) + "…"


def word_ends_at(text: str, i: int) -> bool:
    """Whether a word of `text` ends before position `i`."""
    before, after = text[:i], text[i]
    return (before.endswith(WORD_ENDS) or after in SEPARATORS or before[-1] in SEPARATORS
            or is_cjk(before[-1]) != is_cjk(after))


def is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"
