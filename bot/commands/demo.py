"""The offline demo: a console chat over the same support desk and the same SQLite file as the bot.

Type as the customer; ``/agent TEXT`` answers as an agent (the guard decides whether it is sent);
``/time HH:MM`` or ``/time YYYY-MM-DD HH:MM`` moves the demo clock (busy replies due by then are
sent); ``/help``; ``/quit`` or end of input ends. No network: the outbox is "delivered" by printing
it, so the database holds exactly what the bot would have sent.

Example::

    run_demo(load_settings(), sys.stdin, sys.stdout)
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TextIO

from bot.desk import texts
from bot.desk.agents import AgentDesk
from bot.desk.cores import Cores
from bot.desk.customers import CustomerRef, Outcome, SupportDesk
from bot.ops.settings import Settings
from bot.store.sqlite import Storage, open_storage

__all__ = ["DEMO_AGENT", "DEMO_CUSTOMER", "HELP", "run_demo"]

DEMO_CUSTOMER = CustomerRef(user_id=10001, chat_id=10001, name="演示客户", username="demo_customer")
DEMO_AGENT = (20001, "演示客服")
STEP = timedelta(seconds=1)  # the clock moves one second per line, so every line has its own time
HELP = """\
命令 / commands:
  任意文字              以客户身份发消息（type as the customer）
  /agent 文字           以客服身份回复，先经过忌语检查（answer as an agent, through the guard）
  /time HH:MM           调整演示时钟（move the clock），或 /time YYYY-MM-DD HH:MM
  /help                 显示本帮助
  /quit                 退出（or end of input）"""
_TIME = re.compile(r"^(?:(\d{4}-\d{2}-\d{2})\s+)?(\d{1,2}):(\d{2})$")


class _Demo:
    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        stdout: TextIO,
        start: datetime,
        cores: Cores | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.desk = SupportDesk(storage, settings, cores=cores)
        self.out = stdout
        self.clock = start

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def tick(self) -> datetime:
        at = self.clock
        self.clock += STEP
        return at

    def deliver(self) -> None:
        """Print what the outbox holds for the customer and mark it delivered."""
        for row in self.storage.pending_outbox(1000):
            params = row.params
            if row.chat_id == DEMO_CUSTOMER.chat_id and "text" in params:
                self.say(f"  客服 > {params['text']}")
            self.storage.mark_sent(row.id, None, self.clock)

    def show(self, outcome: Outcome) -> None:
        self.deliver()
        for reply in outcome.held_back:
            self.say(f"  [自动回复被忌语检查拦下，未发送：{reply.key}]")
        for notice in outcome.notices:
            self.say(f"  [客服群] {notice}")

    def customer(self, text: str) -> None:
        at = self.tick()
        outcome = self.desk.on_customer_message(DEMO_CUSTOMER, text, "text", at=at)
        tags = [outcome.intent or "无内容"] + (["非工作时间"] if outcome.off_hours else [])
        if outcome.confidence is not None:
            tags.insert(1, f"把握 {outcome.confidence:.0%}")
        self.say(f"  ({at:%m-%d %H:%M} · {' · '.join(tags)})")
        self.show(outcome)

    def agent(self, text: str) -> None:
        if not text:
            self.say("  用法：/agent 回复内容")
            return
        at = self.tick()
        self.storage.upsert_customer(
            DEMO_CUSTOMER.user_id, DEMO_CUSTOMER.chat_id, DEMO_CUSTOMER.name, DEMO_CUSTOMER.username, at
        )
        result = AgentDesk(self.desk).on_agent_message(*DEMO_AGENT, DEMO_CUSTOMER.user_id, text, at=at)
        if result.allowed:
            self.say(f"  [客服{result.agent_no}号 · 已通过检查，已发送]")
            self.deliver()
            return
        if result.verdict is None:
            self.say(f"  [检查失败，消息已扣留：{result.error}]")
            return
        categories = texts.categories_text(result.verdict)
        marked = texts.mark_hits(text, result.verdict.hits)
        held = "已拦截，未发送" if result.verdict.level == "block" else "可能不礼貌，暂缓发送（review）"
        self.say(f"  [{held}] 类别：{categories}")
        self.say(f"  原文：{marked}")
        if result.verdict.suggestion:
            self.say(f"  建议说：{result.verdict.suggestion}")

    def move_clock(self, arg: str) -> None:
        match = _TIME.match(arg.strip())
        if not match:
            self.say("  用法：/time HH:MM 或 /time YYYY-MM-DD HH:MM")
            return
        day, hour, minute = match.groups()
        if int(hour) > 23 or int(minute) > 59:
            self.say("  时间无效")
            return
        base = self.clock.astimezone(self.settings.zone)
        if day:
            try:
                base = datetime.fromisoformat(day).replace(tzinfo=self.settings.zone)
            except ValueError:
                self.say("  日期无效")
                return
        self.clock = base.replace(hour=int(hour), minute=int(minute), second=0, microsecond=0)
        open_now = "营业中" if self.desk.schedule.is_open(self.clock) else "非工作时间"
        self.say(f"  [时钟：{self.clock:%Y-%m-%d %H:%M} · {open_now}]")
        for outcome in self.desk.due_busy_replies(self.clock):
            self.show(outcome)


def run_demo(
    settings: Settings,
    stdin: TextIO,
    stdout: TextIO,
    *,
    start: datetime | None = None,
    cores: Cores | None = None,
) -> int:
    """Run the console chat until ``/quit`` or end of input; return the exit code (0).

    ``start`` sets the demo clock (default: now in the shop's zone); ``cores`` the guard, classifier,
    scripts, FAQ and policy (default: the installed ones, as the bot's).
    """
    storage = open_storage(settings.db_path)
    clock = start or datetime.now(settings.zone).replace(second=0, microsecond=0)
    demo = _Demo(settings, storage, stdout, clock.astimezone(settings.zone), cores)
    shop = settings.shop_name or "kefu"
    demo.say(f"{shop} 客服演示 · 数据库 {settings.db_path} · 时钟 {demo.clock:%Y-%m-%d %H:%M}")
    demo.say(HELP)
    try:
        for raw in stdin:
            line = raw.strip()
            if not line:
                continue
            command, _, rest = line.partition(" ")
            if command == "/quit":
                break
            if command == "/help":
                demo.say(HELP)
            elif command == "/agent":
                demo.agent(rest.strip())
            elif command == "/time":
                demo.move_clock(rest)
            elif command.startswith("/") and command != "/start":
                demo.say(f"  未知命令 {command}；/help 查看命令")
            else:
                demo.customer(line)
        demo.say("再见。")
    finally:
        storage.close()
    return 0
