"""The CLI's one-line summary of a reminder run."""

NAMES = {"annual": "年检提醒", "zero": "零报告通知", "digest": "周报", "final": "最终报告",
         "nudge": "催办", "stalled": "督办通知",
         "deadline": "整改/注销期限提醒"}


def describe(report: dict) -> str:
    """One line for the CLI: what was queued (or would be, on a dry run)."""
    parts = [f"{NAMES.get(k, k)} {v} 项" for k, v in report.items() if k in NAMES and v]
    head = "（试运行，未发送）" if report.get("dry_run") else ""
    return (head + ("；".join(parts) or "今天没有需要发送的提醒")
            + f"；消息 {report.get('messages', 0)} 条")
