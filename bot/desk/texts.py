"""Every Chinese string the staff read: notices in the topics, buttons, command help and answers.

One module, so a wording is changed (or translated) in one place and read as a whole. Templates take
their values by name (``str.format``); the functions at the end build the notices that have a shape
(a held message, a ticket, the board). Customer-facing words are not here: they are the documented
scripts (``replies/scripts.toml``) and the shop's own folder.
"""

from __future__ import annotations

from collections.abc import Iterable

from guards import Hit, Verdict, mark_spans

# -- A held agent message (the outbound guard's verdict in the topic) -------------------------------
BUTTON_SUGGEST = "发送建议话术"
BUTTON_EDIT = "修改后重发"
BUTTON_SEND_ANYWAY = "仍然发送"  # only under a review-level hold (likely rude, not confident); audited
GUARD_ERROR_CATEGORY = "守卫故障"
TEXT_HELD = "⛔ 已拦截，未发送给客户"
TEXT_REVIEW_HELD = "⚠️ 可能不礼貌，已暂缓发送：可发送建议话术、修改后重发，或确认后仍然发送（会记录）"
TEXT_GUARD_FAILED = "⛔ 守卫检查失败，消息已拦截，未发送给客户。请稍后重发，或先用 /check 检查。"
TEXT_EDIT_HINT = "请直接编辑您被拦截的那条消息，修改后的内容会重新检查，通过后自动发送给客户。"
TEXT_EDIT_SYNCED = "✏️ 修改已通过检查并同步给客户"
TEXT_EDIT_HELD = "⛔ 修改未通过检查，客户看到的仍是修改前的内容"
TEXT_SUGGESTION_SENT = "✅ 已改为发送建议话术"
TEXT_SUGGESTED_WORDING_SENT = "已发送建议话术"  # the button's short answer
TEXT_SENT_ANYWAY = "✅ 已按原文发送（已记录）"
TEXT_NOTHING_TO_DO = "这条消息已处理，无需再次发送"
TEXT_BUTTON_REFUSED = "无效的按钮，未执行"
TEXT_NOT_SENT = "未发送"
LABEL_CATEGORY = "类别："
LABEL_ORIGINAL = "原文："
LABEL_SUGGESTION = "建议话术："

# -- /check: what the guard would do with a draft ------------------------------------------------
TEXT_ALLOWED = "可以发送 ✅"
TEXT_WOULD_BLOCK = "会被拦截 ⛔"
TEXT_WOULD_REVIEW = "可能不礼貌 ⚠️ 会暂缓发送（可确认后仍然发送，会记录）"
LABEL_CLI_SUGGESTION = "  建议："

# -- A script the bot was not sure enough to send (a one-tap suggestion in the topic) ---------------
SUGGESTION_PREFIX = "💡 建议回复"
SUGGESTION_NOTICE = SUGGESTION_PREFIX + "（{intent}，把握 {sure}）：\n{preview}"
BUTTON_SEND_SUGGESTION = "发送此回复"
TEXT_SUGGESTION_PICKED = "已发送建议回复"
TEXT_SUGGESTION_HELD = "建议回复未通过检查，未发送"
TEXT_SUGGESTION_DONE = "这条建议已处理"
TICKET_MARKER = "〈工单号〉"  # a ticket number not yet known (a suggestion's preview, `kefu classify`)
AGENT_NO_MARKER = "〈工号〉"
REOPEN_MARKER = "〈开门时间〉"
NOTICE_DESK_FAILED = "自动处理出错，未自动回复，请人工处理"

# -- What a plan tells the topic (replies.policy notice keys → words; {ticket}: the ticket number) -----
NOTICE_UNCIVIL_CLOSED = "客户已第三次使用不文明用语，会话已关闭；/reopen 可重新打开"
NOTICE_HUMAN = "客户要求人工服务"
NOTICE_CLOSED_CONVERSATION = "会话已因不文明用语关闭，未自动回复"
NOTICE_NEW_TICKET = "新投诉工单 {ticket}"
NOTICE_FOLLOWUP = "客户催办工单 {ticket}，已标记加急"
NOTICE_FOLLOWUP_OVERDUE = "客户催办工单 {ticket}，已超时，已标记加急"
NOTICE_SILENT_TICKET = "疑似投诉，已开工单 {ticket}（未自动回复，请确认；不是投诉可 /close）"
NOTICES = {
    "uncivil_closed": NOTICE_UNCIVIL_CLOSED,
    "human_requested": NOTICE_HUMAN,
    "closed_conversation": NOTICE_CLOSED_CONVERSATION,
    "new_ticket": NOTICE_NEW_TICKET,
    "followup": NOTICE_FOLLOWUP,
    "followup_overdue": NOTICE_FOLLOWUP_OVERDUE,
    "silent_ticket": NOTICE_SILENT_TICKET,
}

# -- Agent commands -------------------------------------------------------------------------------
COMMANDS = {
    "check": "检查草稿，不发送：/check 文本",
    "r": "发送话术：/r 键名",
    "scripts": "列出话术键名",
    "close": "发送结束语并关闭工单",
    "reopen": "重新打开因不文明用语关闭的会话",
    "ticket": "查看工单及期限",
    "stats": "今日统计",
    "ban": "封禁本话题的客户：消息只保存，不回复、不转发",
    "unban": "解除本话题客户的封禁",
    "bans": "列出被封禁的客户",
}
COMMANDS_HEADER = "可用命令："
USAGE_CHECK = "用法：/check 要检查的文字"
USAGE_SCRIPT = "用法：/r 键名（/scripts 查看）"
NEEDS_TOPIC = "请在客户的话题里使用此命令"
TEXT_NOT_RELAYABLE = "⚠️ 此类消息（{kind}）无法发送给客户，未发送"
UNKNOWN_TOPIC = "⚠️ 机器人不认识这个话题（没有对应的客户），这里的消息不会发给任何客户"
SCRIPT_MISSING_VALUE = "无法发送「{spec}」：缺少 {missing}"
SCRIPT_UNKNOWN = "没有话术「{spec}」，/scripts 查看全部"
SCRIPT_SENT = "📤 已发送话术「{spec}」"
SCRIPTS_HEADER = "话术列表（/r 键名 发送，变体用 键名.变体）："
CLOSING_SENT = "📤 已发送结束语"
CONVERSATION_CLOSED = "会话已关闭"
TICKETS_CLOSED = "，工单 {numbers} 已关闭"
REOPENED = "✅ 会话已重新打开，机器人恢复自动回复"
NOT_CLOSED_FOR_INCIVILITY = "当前会话未因不文明用语关闭，无需重新打开"

# -- /ticket ----------------------------------------------------------------------------------------
NO_OPEN_TICKET = "该客户没有未关闭的工单"
TICKET_HEADER = "工单 {number}（{urgency}，催办 {followups} 次）"
TICKET_URGENT, TICKET_NORMAL = "加急", "普通"
TICKET_CREATED = "创建：{at}"
TICKET_DUE_ANSWER = "答复期限：{at}{late}"
TICKET_ANSWERED = "已答复：{at}"
TICKET_DUE_SETTLE = "处理完毕期限：{at}{late}"
OVERDUE = " ⚠️已超时"
NO_TIME = "—"

# -- Bans -----------------------------------------------------------------------------------------
NO_CUSTOMER_IN_TOPIC = "找不到这个话题的客户。"
A_CUSTOMER = "客户"
CUSTOMER_WHO = "{name}{handle}（ID {id}）"
ALREADY_BANNED = "客户 {who}自 {since} 起已被封禁。/unban 可解除。"
BANNED = "🚫 已封禁客户 {who}：此后的消息只保存，不自动回复，也不转到本话题。/unban 可解除。"
NOT_BANNED = "客户 {who}没有被封禁，无需解除。"
UNBANNED = "✅ 已解除对客户 {who}的封禁：此后的消息照常自动回复，并转到本话题。"
TEXT_NO_BANS = "目前没有被封禁的客户。"
BANS_HEADER = "被封禁的客户（{count} 位）："
BANS_LINE = "• {who}，{since} 起{by}"
BANNED_BY = "，客服 {number} 封禁"

# -- The relay into a customer's topic ------------------------------------------------------------
TOPIC_UNNAMED = "客户 {user_id}"
# A spare forum topic made in quiet time, before a new customer takes it (then renamed to the customer).
TOPIC_SPARE = "⏳ 待分配"
# Above the first relay into a spare topic not yet renamed: who the customer is.
HEADER_CUSTOMER = "👤 {name}"
HEADER_EDITED = "✏️ 客户修改了消息（第{version}版）"
HEADER_OFF_HOURS = "🌙 非工作时间"
HEADER_AUTO_REPLIED = "🤖 已自动回复「{replies}」"
UNCOPYABLE = "[客户发送了一条无法转发的{kind}消息]"
KIND_NAMES = {
    "text": "文字",
    "photo": "图片",
    "video": "视频",
    "document": "文件",
    "audio": "音频",
    "voice": "语音",
    "animation": "动图",
    "video_note": "视频留言",
    "sticker": "贴纸",
    "location": "位置",
    "venue": "地点",
    "contact": "联系人",
    "poll": "投票",
    "dice": "骰子",
    "game": "游戏",
    "story": "动态",
    "invoice": "账单",
    "giveaway": "抽奖",
    "giveaway_winners": "抽奖结果",
    "paid_media": "付费媒体",
    "live_photo": "实况照片",
    "checklist": "清单",
}
KIND_UNKNOWN = "特殊"

# -- Chat events ----------------------------------------------------------------------------------
NOTICE_UNBLOCKED = "客户已重新启用机器人"
NOTICE_ANONYMOUS = "⛔ 匿名发言无法确认是哪位客服，消息未发送给客户。请在群组设置中关闭「匿名发言」后重发。"
TEXT_NOT_AN_AGENT = "只有客服可以使用这个按钮"
REACTION_ON = "客户对{target}回应了 {emojis}"
REACTION_TAKEN_BACK = "客户撤回了对{target}的回应"
REACTION_QUOTED = "「{snippet}」"
REACTION_SOME_MESSAGE = "一条消息"
CUSTOM_EMOJI = "[自定义表情]"

# -- Delivery trouble (the sender) ----------------------------------------------------------------
NOTICE_BLOCKED = "客户已屏蔽机器人，消息无法送达"
NOTICE_DEACTIVATED = "客户的Telegram账号已注销，消息无法送达"
NOTICE_REJECTED = "Telegram拒绝了发给客户的消息，未送达"
NOTICE_STAFF_BACK = "✅ 客服群恢复可用，暂停期间排队的消息已补发。此前的问题："
NOTICE_MIGRATED = (
    "⚠️ 客服群已升级为超级群组，新的群ID是 {new}：请把 KEFU_STAFF_CHAT_ID 中的 {old} 换成 {new}，"
    "开启话题后重启机器人"
)
TROUBLE_MIGRATED = "群已升级为超级群组 {new}"
NOTICE_GUARD_BLOCKED = "发往客户的消息被守卫拦截，未送达"
NOTICE_REPEATED_FAILURES = "消息多次发送失败（网络或Telegram故障），仍在重试，未丢失"
REASON_GUARD_FAILED = "守卫检查失败"
REASON_UNKNOWN_SOURCE = "无法确认转发内容"

# -- Operations -----------------------------------------------------------------------------------
NOTICE_LOW_DISK = "⚠️ 数据库所在磁盘仅剩 {free}，低于 {low}：请尽快清理空间，磁盘写满后客户消息将无法保存"

# -- The board and /stats -------------------------------------------------------------------------
NOTHING = "无"
WAIT_HOURS = "{hours}小时{minutes:02d}分"
WAIT_MINUTES = "{minutes}分{seconds:02d}秒"
STATS_LINES = (
    "📊 今日统计（{day}）",
    "会话：{conversations}，机器人独立处理 {auto_answered}（{auto_share:.0%}）",
    "拦截的客服消息：{held}",
    "  按类别：{by_category}",
    "  按工号：{by_agent}",
    "工单：未关闭 {tickets_open}，已超时 {tickets_overdue}",
    "等待回复的客户：{waiting}，最久已等 {oldest_wait}（营业时间）",
)
GROUP_LINE = "  客服群 {group}：等待 {waiting}，待转发 {queued}"
BOARD_TITLE = "📌 客服看板"
BOARD_NOBODY_WAITING = "✅ 没有等待回复的客户"
BOARD_WAITING = "⏳ 等待回复：{waiting} 位，最久 {oldest} 已等 {wait}（营业时间）"
BOARD_TICKETS = "工单：未关闭 {tickets_open}，已超时 {tickets_overdue}"
BOARD_TODAY = "今日会话 {conversations}，自动处理 {auto_share:.0%}，拦截 {held}"


def plan_notice(key: str, ticket: str | None) -> str:
    """Return the words of a plan's notice (a :data:`replies.policy.NOTICES` key), the ticket filled in."""
    return NOTICES[key].format(ticket=ticket or "")


def categories_text(verdict: Verdict) -> str:
    """Return the categories a verdict hit, in order of appearance, joined with 、 (``推卸语、烦躁语``)."""
    return "、".join(dict.fromkeys(h.category for h in verdict.hits))


def mark_hits(text: str, hits: Iterable[Hit]) -> str:
    """Return ``text`` with every matched span wrapped in 【】 (overlapping spans merged).

    >>> mark_hits("这个我不知道啊", [Hit("推卸语", "我不知道", "x", 100.0, 2, 6, "exact")])
    '这个【我不知道】啊'
    """
    return mark_spans(text, [(h.start, h.end) for h in hits])


def held_notice(text: str, verdict: Verdict, *, title: str = TEXT_HELD) -> str:
    """Return the topic notice for a held-back message: title, categories, the marked text, the better
    wording (when the catalogue has one)."""
    lines = [title, LABEL_CATEGORY + categories_text(verdict), LABEL_ORIGINAL + mark_hits(text, verdict.hits)]
    if verdict.suggestion:
        lines.append(LABEL_SUGGESTION + verdict.suggestion)
    return "\n".join(lines)


def commands_help() -> str:
    """Return the list of agent commands shown for an unknown ``/command``."""
    return COMMANDS_HEADER + "\n" + "\n".join(f"/{k} — {v}" for k, v in COMMANDS.items())


def kind_name(content_kind: str | None) -> str:
    """Return the Chinese name of a content kind for staff notices (``"photo"`` → ``"图片"``)."""
    return KIND_NAMES.get(content_kind or "", KIND_UNKNOWN)
