"""The emulator refuses what WeCom refuses, with WeCom's error codes (doc 90236, 94888)."""

import pytest
from wechatpy.exceptions import WeChatClientException


def card(task_id="task-1", buttons=2):
    return {"card_type": "button_interaction", "task_id": task_id,
            "main_title": {"title": "登记备案审批"},
            "button_list": [{"text": f"按钮{i}", "key": f"k{i}", "style": 1}
                            for i in range(buttons)]}


@pytest.fixture
def client(app):
    return app.extensions["filingbot.client"]


@pytest.mark.parametrize("bad,errcode", [
    (card(task_id="has space"), 42014),
    (card(task_id="x" * 129), 42014),
    (card(task_id=""), 42014),
    (card(buttons=0), 40058),
    (card(buttons=7), 40058),
])
def test_invalid_cards_are_refused(client, bad, errcode):
    with pytest.raises(WeChatClientException) as info:
        client.card.send(client.agent_id, ["zhangsan"], bad)
    assert info.value.errcode == errcode


def test_a_task_id_can_be_used_once(client):
    client.card.send(client.agent_id, ["zhangsan"], card(task_id="once@1_a-b"))
    with pytest.raises(WeChatClientException) as info:
        client.card.send(client.agent_id, ["zhangsan"], card(task_id="once@1_a-b"))
    assert info.value.errcode == 42014


def test_a_response_code_updates_every_recipient_once_and_expires(client, emulator, clock):
    sent = client.card.send(client.agent_id, ["zhangsan", "lisi"], card(task_id="t2"))
    client.card.update(client.agent_id, sent["response_code"], atall=True, replace_name="已批准")
    assert emulator.card_view("t2", "lisi")["replace_name"] == "已批准"
    assert emulator.card_view("t2", "zhangsan")["replace_name"] == "已批准"
    with pytest.raises(WeChatClientException):  # single use
        client.card.update(client.agent_id, sent["response_code"], atall=True, replace_name="x")
    later = client.card.send(client.agent_id, ["zhangsan"], card(task_id="t3"))
    clock.advance(hours=73)
    with pytest.raises(WeChatClientException):  # 72 h
        client.card.update(client.agent_id, later["response_code"], atall=True, replace_name="x")


def test_text_over_2048_bytes_is_truncated_and_unknown_users_listed(client, emulator):
    result = client.message.send_text(client.agent_id, ["zhangsan", "stranger"], "长" * 1000)
    assert result["invaliduser"] == "stranger"
    [message] = emulator.inbox("zhangsan")
    assert len(message["body"]["content"].encode()) <= 2048


def test_directory_endpoints(client):
    assert client.user.get("liming")["is_leader_in_dept"] == [1]
    names = {d["name"] for d in client.department.get()}
    assert {"党政办公室", "宣传部", "教育技术与资源中心"} <= names
    with pytest.raises(WeChatClientException) as info:
        client.user.get("nobody")
    assert info.value.errcode == 60111
