"""The emulator's WeCom side.

Tokens, sending, card updates and the directory, as WeCom does them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import delete, func, insert, select, update

from bot.wecom.emulator import directory
from bot.wecom.emulator.cards import CardError, validate_card
from bot.wecom.emulator.store import (
    api_calls,
    card_views,
    codes,
    duplicates,
    inbox,
    open_store,
    tasks,
    tokens,
)

TOKEN_TTL = 7200  # gettoken expires_in (doc 91039)
RESPONSE_CODE_TTL = 72 * 3600  # single use, 72 h (doc 94888)
TEXT_LIMIT = 2048  # bytes; WeCom truncates longer text silently (doc 90236)
MAX_TOUSER = 1000
PENDING_LIFE = 60  # seconds a place kept for a passive reply holds back what follows it


class ApiError(Exception):
    """An errcode answer."""

    def __init__(self, errcode: int, errmsg: str):
        super().__init__(errmsg)
        self.errcode, self.errmsg = errcode, errmsg


@dataclass
class Emulator:
    """One WeCom corp with one self-built app, its directory and every member's phone."""

    store_path: str
    corp_id: str
    secret: str
    agent_id: int
    token: str
    aes_key: str
    clock: callable = time.time
    faults: list = field(default_factory=list)  # ("http500"|"errcode", value) consumed per call
    extra_users: list = field(default_factory=list)  # more members, shaped like DEMO_USERS
    trusted_domain: str | None = None  # the app's 可信域名 (host[:port]); None accepts any
    # Directory changes since the demo directory was set up: userid -> new [(department id,
    # is leader)], or None for a member who left the corp (see move() and leave()).
    changes: dict = field(default_factory=dict)
    # Answer department/get and department/list without department_leader, as WeCom does for
    # leaders outside the app's visible range (doc 95407): the bot must fall back to user/list.
    hide_department_leader: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.engine = open_store(self.store_path)

    @property
    def users(self) -> list:
        """Members as the directory stands now: the demo users, extra ones, and the changes."""
        found = []
        for userid, name, position, places in [*directory.DEMO_USERS, *self.extra_users]:
            places = self.changes.get(userid, places)
            if places is not None:
                found.append((userid, name, position, places))
        return found

    def move(self, userid: str, places: list) -> None:
        """The member's departments (and whether they lead each) are now `places`."""
        self.changes[userid] = list(places)

    def leave(self, userid: str) -> None:
        """The member left the corp: gone from user/get, user/list and department_leader."""
        self.changes[userid] = None

    # --- failure injection -------------------------------------------------------------
    def fail_next(self, count: int, kind: str = "http500", errcode: int = -1) -> None:
        """Make the next `count` API calls fail: HTTP 500, or an errcode answer (e.g. 42001)."""
        with self._lock:
            self.faults.extend([(kind, errcode)] * count)

    def take_fault(self):
        """The fault for this call, if any."""
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    @contextmanager
    def stalled(self):
        """WeCom hangs: every API call waits, before it does anything, until the block ends
        (a caller killed meanwhile leaves its request to be carried out, as a real server does)."""
        with self._lock:  # every call takes it first, in take_fault
            yield

    def record_call(self, endpoint: str, errcode: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(api_calls).values(endpoint=endpoint, errcode=errcode,
                                                  at=self.clock()))

    def call_count(self, endpoint: str, errcode: int | None = 0) -> int:
        """How many calls to `endpoint` were answered with `errcode` (None: any)."""
        query = select(func.count()).select_from(api_calls).where(api_calls.c.endpoint == endpoint)
        if errcode is not None:
            query = query.where(api_calls.c.errcode == errcode)
        with self.engine.connect() as conn:
            return conn.execute(query).scalar_one()

    # --- gettoken (doc 91039) ------------------------------------------------------------
    def get_token(self, corpid: str, corpsecret: str) -> dict:
        if corpid != self.corp_id:
            raise ApiError(40013, "invalid corpid")
        if corpsecret != self.secret:
            raise ApiError(40001, "invalid credential")
        token = secrets.token_urlsafe(48)
        with self.engine.begin() as conn:
            conn.execute(insert(tokens).values(token=token, expires_at=self.clock() + TOKEN_TTL))
        return {"access_token": token, "expires_in": TOKEN_TTL}

    def check_token(self, token: str | None) -> None:
        if not token:
            raise ApiError(41001, "access_token missing")
        with self.engine.connect() as conn:
            expires_at = conn.execute(
                select(tokens.c.expires_at).where(tokens.c.token == token)
            ).scalar()
        if expires_at is None:
            raise ApiError(40014, "invalid access_token")
        if expires_at <= self.clock():
            raise ApiError(42001, "access_token expired")

    def expire_tokens(self) -> None:
        """Make every issued token expired, as WeCom may do at any time."""
        with self.engine.begin() as conn:
            conn.execute(update(tokens).values(expires_at=0))

    # --- message/send (doc 90236) ---------------------------------------------------------
    def send(self, body: dict) -> dict:
        if body.get("agentid") != self.agent_id:
            raise ApiError(40056, "invalid agentid")
        touser = [u for u in str(body.get("touser", "")).split("|") if u]
        if not touser and not body.get("toparty") and not body.get("totag"):
            raise ApiError(40058, "touser, toparty and totag are all empty")
        if len(touser) > MAX_TOUSER:
            raise ApiError(40058, "touser holds more than 1000 users")
        msgtype = body.get("msgtype")
        if msgtype not in ("text", "markdown", "template_card"):
            raise ApiError(40008, "invalid message type")
        if touser == ["@all"]:
            touser = [u[0] for u in self.users]
        valid = [u for u in touser if directory.user_json(u, self.users)]
        invalid = [u for u in touser if u not in valid]
        if not valid:
            raise ApiError(81013, "user & party & tag all invalid")
        content = body.get(msgtype)
        if msgtype in ("text", "markdown"):
            text = str((content or {}).get("content", ""))
            if not text:
                raise ApiError(44004, "empty content")
            content = {"content": _truncate_utf8(text, TEXT_LIMIT)}
        now = self.clock()
        msgid = secrets.token_hex(16)
        answer = {"invaliduser": "|".join(invalid), "msgid": msgid}
        # BEGIN IMMEDIATE (store.open_store): the duplicate check and the delivery are one
        # write transaction, so two processes sending the same body deliver it once.
        with self._lock, self.engine.begin() as conn:
            digest = None
            if body.get("enable_duplicate_check"):
                # An identical body (the request JSON) within duplicate_check_interval (default
                # 1800 s, at most 4 h) is answered but not delivered again (doc 90236).
                digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False)
                                        .encode()).hexdigest()
                interval = min(int(body.get("duplicate_check_interval") or 1800), 4 * 3600)
                seen = conn.execute(select(duplicates.c.at, duplicates.c.answer)
                                    .where(duplicates.c.digest == digest)).first()
                if seen and abs(now - seen.at) < interval:  # abs: a sandbox clock moved back
                    return dict(seen.answer)
            task_id = None
            if msgtype == "template_card":
                try:
                    validate_card(content)
                except CardError as exc:
                    raise ApiError(exc.errcode, exc.errmsg) from None
                task_id = content.get("task_id")
                if task_id:
                    if conn.execute(select(tasks.c.task_id)
                                    .where(tasks.c.task_id == task_id)).first():
                        raise ApiError(42014, "taskid has existed")
                    conn.execute(insert(tasks).values(task_id=task_id, card=content,
                                                      recipients=valid, created_at=now))
                    if content["card_type"] in ("button_interaction", "vote_interaction",
                                                "multiple_interaction"):
                        answer["response_code"] = self._new_code(conn, task_id, None)
                    for userid in valid:
                        conn.execute(insert(card_views).values(task_id=task_id, userid=userid,
                                                               card=content, updates=0))
            for userid in valid:
                conn.execute(insert(inbox).values(userid=userid, source="api", msgtype=msgtype,
                                                  body=content, msgid=msgid, task_id=task_id,
                                                  created_at=now))
            if digest:
                conn.execute(delete(duplicates).where(duplicates.c.digest == digest))
                conn.execute(insert(duplicates).values(digest=digest, at=now, answer=answer))
        return answer

    def _new_code(self, conn, task_id: str, userid: str | None) -> str:
        code = secrets.token_urlsafe(24)
        conn.execute(insert(codes).values(code=code, task_id=task_id, userid=userid,
                                          created_at=self.clock()))
        return code

    def click_code(self, task_id: str, userid: str) -> str:
        """The ResponseCode WeCom puts in a template_card_event for this click."""
        with self.engine.begin() as conn:
            return self._new_code(conn, task_id, userid)

    # --- message/update_template_card (doc 94888) --------------------------------------
    def update_card(self, body: dict) -> dict:
        if body.get("agentid") != self.agent_id:
            raise ApiError(40056, "invalid agentid")
        code = body.get("response_code")
        with self._lock, self.engine.begin() as conn:
            row = conn.execute(select(codes).where(codes.c.code == code)).first()
            # The code is single use and valid for 72 hours; the doc gives no dedicated
            # errcode, so the emulator answers with the generic invalid-parameter code.
            if row is None:
                raise ApiError(40058, "invalid response_code")
            if row.used_at is not None:
                raise ApiError(40058, "response_code has been used")
            if row.created_at + RESPONSE_CODE_TTL <= self.clock():
                raise ApiError(40058, "response_code expired")
            task = conn.execute(select(tasks).where(tasks.c.task_id == row.task_id)).first()
            if body.get("atall"):
                targets = list(task.recipients)
            else:
                targets = [u for u in body.get("userids", []) if u in task.recipients]
                if not targets:
                    raise ApiError(81013, "user & party & tag all invalid")
            if "template_card" in body:
                new_card = body["template_card"]
                try:
                    validate_card(new_card)
                except CardError as exc:
                    raise ApiError(exc.errcode, exc.errmsg) from None
                changes = {"card": new_card, "replace_name": new_card.get("replace_text")}
            elif (body.get("button") or {}).get("replace_name"):
                changes = {"replace_name": body["button"]["replace_name"]}
            else:
                raise ApiError(40058, "button.replace_name or template_card required")
            conn.execute(update(codes).where(codes.c.code == code).values(used_at=self.clock()))
            for userid in targets:
                conn.execute(
                    update(card_views)
                    .where(card_views.c.task_id == row.task_id, card_views.c.userid == userid)
                    .values(updates=card_views.c.updates + 1, **changes)
                )
        return {}

    def grey_button(self, task_id: str, userid: str, replace_name: str) -> None:
        """A passive update_button reply: only the clicker's card changes (doc 90241)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(card_views)
                .where(card_views.c.task_id == task_id, card_views.c.userid == userid)
                .values(replace_name=replace_name, updates=card_views.c.updates + 1)
            )

    # --- directory (docs 90196, 90200, 90201, 90205, 90208) -------------------------------
    def user_get(self, userid: str) -> dict:
        user = directory.user_json(userid, self.users)
        if user is None:
            raise ApiError(60111, "userid not found")
        return user

    def user_list(self, department_id: int, simple: bool) -> dict:
        if department_id not in {d[0] for d in directory.DEMO_DEPARTMENTS}:
            raise ApiError(60123, "invalid party id")
        users = [directory.user_json(u[0], self.users) for u in self.users
                 if department_id in [p[0] for p in u[3]]]
        if simple:
            users = [{"userid": u["userid"], "name": u["name"], "department": u["department"]}
                     for u in users]
        return {"userlist": users}

    def department_list(self, dept_id: int | None, simple: bool) -> dict:
        root = dept_id if dept_id is not None else 1
        if root not in {d[0] for d in directory.DEMO_DEPARTMENTS}:
            raise ApiError(60123, "invalid party id")
        found = [self._department(d) for d in directory.subtree(root)]
        if simple:
            return {"department_id": [{"id": d["id"], "parentid": d["parentid"],
                                       "order": d["order"]} for d in found]}
        return {"department": found}

    def department_get(self, dept_id: int) -> dict:
        """获取单个部门详情 (doc 95407): the department with its department_leader."""
        try:
            return {"department": self._department(dept_id)}
        except KeyError:
            raise ApiError(60123, "invalid party id") from None

    def _department(self, dept_id: int) -> dict:
        found = directory.department_json(dept_id, self.users)
        if self.hide_department_leader:
            del found["department_leader"]
        return found

    # --- what a member's phone shows -------------------------------------------------------
    def record_passive(self, userid: str, msgtype: str, body: dict,
                       slot: int | None = None) -> None:
        """Show a passive reply on the phone, in the place `slot` kept for it (if any)."""
        with self.engine.begin() as conn:
            if slot is not None and conn.execute(
                    update(inbox).where(inbox.c.id == slot, inbox.c.msgtype == "pending")
                    .values(msgtype=msgtype, body=body, created_at=self.clock())).rowcount:
                return
            conn.execute(insert(inbox).values(userid=userid, source="passive", msgtype=msgtype,
                                              body=body, created_at=self.clock()))

    def record_member(self, userid: str, msgtype: str, body: dict) -> int:
        """What the member typed, shown on their own phone (not part of what they received)."""
        with self.engine.begin() as conn:
            return conn.execute(insert(inbox).values(
                userid=userid, source="member", msgtype=msgtype, body=body,
                created_at=self.clock())).inserted_primary_key[0]

    def reserve(self, userid: str) -> int:
        """Keep the place of the passive reply to a callback about to be posted.

        A message the app sends while it answers (a card, a long reply in parts) reaches the
        phone after the answer, as the member reads them; the phone shows nothing past a kept
        place until the reply fills it (or `release` drops it)."""
        with self.engine.begin() as conn:
            return conn.execute(insert(inbox).values(
                userid=userid, source="passive", msgtype="pending", body={},
                created_at=self.clock())).inserted_primary_key[0]

    def release(self, slot: int) -> None:
        """Drop a kept place that no passive reply filled (an empty 200, an error)."""
        with self.engine.begin() as conn:
            conn.execute(delete(inbox).where(inbox.c.id == slot, inbox.c.msgtype == "pending"))

    def inbox(self, userid: str, after_id: int = 0, *, own: bool = False) -> list[dict]:
        """What `userid` received after `after_id`, oldest first (api sends and passive
        replies; with `own`, what they typed too), up to a place kept for a reply in flight."""
        query = select(inbox).where(inbox.c.userid == userid, inbox.c.id > after_id)
        if not own:
            query = query.where(inbox.c.source != "member")
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(inbox.c.id)).all()
        shown, now = [], self.clock()
        for row in rows:
            if row.msgtype == "pending":
                if abs(now - row.created_at) < PENDING_LIFE:
                    break
                continue  # its poster died before the reply came: not worth waiting for
            shown.append(dict(row._mapping))
        return shown

    def last_inbox_id(self) -> int:
        """The newest inbox row of any member (0 for none): where "only what is new" starts."""
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(inbox.c.id))).scalar() or 0

    def card_views(self, userid: str, changed_only: bool = True) -> list[dict]:
        """`userid`'s cards as shown now (by default only those updated since they came)."""
        query = select(card_views).where(card_views.c.userid == userid)
        if changed_only:
            query = query.where(card_views.c.updates > 0)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query).all()]

    def card_view(self, task_id: str, userid: str) -> dict | None:
        """The card as `userid` sees it now: content, and the grey text once decided."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(card_views).where(card_views.c.task_id == task_id,
                                         card_views.c.userid == userid)
            ).first()
        return dict(row._mapping) if row else None

    def task(self, task_id: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(tasks).where(tasks.c.task_id == task_id)).first()
        return dict(row._mapping) if row else None


def _truncate_utf8(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")
