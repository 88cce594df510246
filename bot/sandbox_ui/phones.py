"""What a demo member's phone shows, as plain data for the page: the members to pick from,
and each member's conversation with the app (what they typed, texts, markdown, cards as they
look now: greyed and relabelled once updated)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.clock import SHANGHAI
from bot.db import read_only
from bot.wecom.emulator.directory import DEMO_DEPARTMENTS
from workflow import roles

DEFAULT_USERS = ("zhangsan", "liming", "wangwu")  # staff, their head, the office
MAX_PHONES = 6


def members(emulator, engine) -> list[dict]:
    """Every member of the emulated corp: userid, name, position, departments, roles."""
    departments = {did: name for did, name, _ in DEMO_DEPARTMENTS}
    granted = {}
    # Looking takes no write lock.
    with read_only(engine.connect()) as conn, Session(bind=conn) as session:
        for grant, _name in roles.list_grants(session):
            granted.setdefault(grant.userid, []).append(grant.role)
        session.rollback()
    return [{"userid": uid, "name": name, "position": position,
             "departments": [departments.get(did, str(did)) for did, _ in places],
             "leader": any(leader for _, leader in places),
             "roles": sorted(set(granted.get(uid, [])))}
            for uid, name, position, places in emulator.users]


def pick(everyone: list[dict], wanted: list[str]) -> tuple[list[dict], list[str]]:
    """The members named in `wanted` (in that order, at most MAX_PHONES) and the unknown names."""
    by_id = {m["userid"]: m for m in everyone}
    names = list(dict.fromkeys(w.strip() for w in wanted if w.strip())) or list(DEFAULT_USERS)
    return ([by_id[n] for n in names if n in by_id][:MAX_PHONES],
            [n for n in names if n not in by_id])


def conversation(emulator, userid: str, after_id: int) -> dict:
    """`userid`'s messages after `after_id` (theirs and the app's, in order) and the current
    look of every card of theirs that was updated."""
    views = {v["task_id"]: v for v in emulator.card_views(userid, changed_only=False)}
    messages = [message(row, views.get(row["task_id"]))
                for row in emulator.inbox(userid, after_id, own=True)]
    return {"messages": messages,
            "cards": [card_look(v) for v in views.values() if v["updates"]]}


def message(row: dict, view: dict | None) -> dict:
    """One inbox row as the page draws it."""
    shown = {"id": row["id"], "mine": row["source"] == "member", "type": row["msgtype"],
             "at": datetime.fromtimestamp(row["created_at"], SHANGHAI).isoformat()}
    body = row["body"] or {}
    if row["msgtype"] in ("text", "markdown"):
        shown["text"] = str(body.get("content", ""))
    elif row["msgtype"] == "template_card":
        shown.update(card_look(view) if view else {"task_id": row["task_id"], "card": body,
                                                   "replace_name": None, "updates": 0})
    else:
        shown["type"], shown["text"] = "other", str(body)
    return shown


def card_look(view: dict) -> dict:
    """A card as its recipient sees it now."""
    return {"task_id": view["task_id"], "card": view["card"],
            "replace_name": view["replace_name"], "updates": view["updates"]}
