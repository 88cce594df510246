"""The emulated WeCom is one WeCom for every process: its duplicate check and its members'
phones live in its store, not in a process's memory; a phone shows messages in the order the
member reads them."""

from __future__ import annotations

import threading

from bot.wecom.emulator import Emulator
from tests.wecom import AES_KEY, AGENT_ID, CORP_ID, SECRET, TOKEN


def twin(emulator: Emulator) -> Emulator:
    """Another process's view of the same emulated WeCom (same store file, no shared memory)."""
    return Emulator(store_path=emulator.store_path, corp_id=CORP_ID, secret=SECRET,
                    agent_id=AGENT_ID, token=TOKEN, aes_key=AES_KEY, clock=emulator.clock)


def body(text="已批准，备案编号 WX-2026-0001", **extra):
    return {"touser": "zhangsan", "agentid": AGENT_ID, "msgtype": "text",
            "text": {"content": text}, **extra}


def test_the_duplicate_check_holds_across_processes(emulator, clock):
    other = twin(emulator)
    checked = body(enable_duplicate_check=1, duplicate_check_interval=180)
    first, second = emulator.send(dict(checked)), other.send(dict(checked))
    assert second["msgid"] == first["msgid"]
    assert len(emulator.inbox("zhangsan")) == 1
    clock.advance(seconds=181)  # after the interval the same body is a new message
    assert other.send(dict(checked))["msgid"] != first["msgid"]
    assert len(emulator.inbox("zhangsan")) == 2


def test_identical_bodies_sent_at_once_by_two_processes_arrive_once(emulator):
    emulators = [emulator, twin(emulator)]
    checked = body(enable_duplicate_check=1)
    answers = [None] * 8
    barrier = threading.Barrier(8)

    def send(i):
        barrier.wait()
        answers[i] = emulators[i % 2].send(dict(checked))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({a["msgid"] for a in answers}) == 1
    assert len(emulator.inbox("zhangsan")) == 1


def test_without_the_check_identical_bodies_are_two_messages(emulator):
    emulator.send(body())
    twin(emulator).send(body())
    assert len(emulator.inbox("zhangsan")) == 2


def test_a_phone_shows_nothing_past_a_reply_still_on_its_way(emulator):
    slot = emulator.reserve("zhangsan")  # zhangsan's message is being answered
    emulator.send(body("卡片已送达部门负责人"))  # the app sends meanwhile
    assert emulator.inbox("zhangsan") == []
    emulator.record_passive("zhangsan", "text", {"content": "已提交"}, slot)
    assert [m["body"]["content"] for m in emulator.inbox("zhangsan")] == [
        "已提交", "卡片已送达部门负责人"]


def test_a_kept_place_nobody_fills_is_dropped(emulator):
    slot = emulator.reserve("zhangsan")
    emulator.send(body("之后的消息"))
    emulator.release(slot)
    assert [m["body"]["content"] for m in emulator.inbox("zhangsan")] == ["之后的消息"]


def test_what_the_member_typed_is_on_their_phone_but_not_in_what_they_received(wecom, emulator):
    wecom.as_user("zhangsan").say("帮助")
    assert [m["source"] for m in emulator.inbox("zhangsan")] == ["passive"]
    assert [(m["source"], m["body"]["content"][:2]) for m in
            emulator.inbox("zhangsan", own=True)] == [("member", "帮助"), ("passive", "张三")]
