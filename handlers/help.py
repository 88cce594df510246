"""帮助/help, and the short menu for anything the bot does not understand (SPEC §4)."""


def register(router) -> None:
    router.command("帮助", "help", "？", "?", "菜单", "menu")(show_help)
    router.command("取消", "返回", "确认", "跳过", "cancel", "back", "confirm")(nothing_open)
    router.fallback(show_menu)


def nothing_open(ctx) -> None:
    """Form words with no form open."""
    ctx.reply("forms/nothing_open")


def show_help(ctx) -> None:
    """Reply with the full help: every command and what it does."""
    ctx.reply("help/full")


def show_menu(ctx) -> None:
    """Reply with the short menu to unknown text, other message types and unknown taps."""
    ctx.reply("help/menu", unknown=ctx.text[:20])
