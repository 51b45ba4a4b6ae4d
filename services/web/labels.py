"""Every word the ops pages, `liaison status`, `liaison deliveries` and the alerts say, in
Chinese first and English, from this one catalogue.

A catalogue of our own rather than gettext: some forty short labels in two languages, read
by templates (`t("queues")`) and by code (`t("alert.dead", count=3)`); a test holds both
languages to the same keys and placeholders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

ZH, EN = "zh-CN", "en"
LANGS = (ZH, EN)
DEFAULT_LANG = ZH

#: key → (zh-CN, en); placeholders in braces, the same in both
LABELS: Mapping[str, tuple[str, str]] = {
    "brand": ("联络员助手 · 运维", "liaison ops"),
    "nav.overview": ("总览", "Overview"),
    "nav.compliance": ("落实情况", "Compliance"),
    "nav.docs": ("接口文档", "API docs"),
    "nav.logout": ("退出（{role}）", "Log out ({role})"),
    "nav.switch": ("English", "中文"),
    "role.ops": ("运维", "ops"),
    "role.admin": ("管理员", "admin"),
    "login.title": ("登录", "Log in"),
    "login.token": ("令牌", "Token"),
    "login.submit": ("登录", "Log in"),
    "login.expired": ("会话已结束，请重新登录。", "Your session has ended; log in again."),
    "login.refused": ("这不是有效的运维或管理员令牌。", "That is not a live ops or admin token."),
    "login.forged": (
        "表单不是从本页面提交的，请刷新后重试。",
        "The form was not sent from this page; reload it and try again.",
    ),
    "alerts.none": ("✓ 没有告警", "✓ No alerts"),
    "alerts.word": ("告警", "ALERT"),
    "alerts.since": ("自 {since} 起", "since {since}"),
    "alert.dead": (
        "{count} 条通知发送失败已放弃（阈值 {threshold}，{window_h} 小时内）",
        "{count} notifications died (threshold {threshold} within {window_h} h)",
    ),
    "alert.failure_rate": (
        "{channel}/{provider}：{window_min} 分钟内 {attempts} 次发送失败 {failures} 次"
        "（{rate}%，阈值 {threshold}%）",
        "{channel}/{provider}: {failures} of {attempts} attempts failed in {window_min} min"
        " ({rate}%, threshold {threshold}%)",
    ),
    "alert.stuck_queue": (
        "队列 {queue} 最早的消息已等待 {age} 秒（阈值 {threshold} 秒）",
        "queue {queue}: the oldest message has waited {age} s (threshold {threshold} s)",
    ),
    "alert.scheduler": (
        "调度器最近一次运行：{said}（阈值 {threshold} 秒）",
        "the scheduler last ticked {said} (threshold {threshold} s)",
    ),
    "alert.scheduler.never": ("从未运行", "never"),
    "alert.scheduler.ago": ("{age} 秒前", "{age} s ago"),
    "alert.no_worker": (
        "没有存活的 worker 进程：通知无人发送",
        "no live worker process: nothing sends the notifications",
    ),
    "alert.planning_timeout": (
        "调度器等待 worker 规划分片超时（累计 {count} 次）",
        "a scheduler tick timed out waiting for the workers to plan ({count} so far)",
    ),
    "queues": ("队列", "Queues"),
    "queue.name": ("队列", "queue"),
    "queue.waiting": ("等待", "waiting"),
    "queue.in_flight": ("处理中", "in flight"),
    "queue.delayed": ("延迟", "delayed"),
    "queue.dead": ("已放弃", "dead"),
    "queue.oldest": ("最早等待", "oldest"),
    "queue.workers": ("worker 数", "workers"),
    "seconds": ("{n} 秒", "{n} s"),
    "workers": ("Worker 进程", "Workers"),
    "workers.none": ("没有存活的 worker。", "No live worker."),
    "worker.host": ("主机", "host"),
    "worker.pid": ("进程号", "pid"),
    "worker.queues": ("队列", "queues"),
    "worker.threads": ("线程", "threads"),
    "worker.last_seen": ("最近心跳", "last seen"),
    "scheduler": ("调度器", "Scheduler"),
    "scheduler.ticking": ("运行正常", "ticking"),
    "scheduler.not_ticking": ("未在运行", "not ticking"),
    "scheduler.last_tick": ("最近一次成功运行", "last successful tick"),
    "scheduler.never": ("从未", "never"),
    "scheduler.lease": ("租约", "lease"),
    "scheduler.lease.held": ("已持有", "held"),
    "scheduler.lease.free": ("空闲", "free"),
    "scheduler.timeouts": ("规划超时", "planning timeouts"),
    "scheduler.last_failure": ("最近一次失败", "last failed tick"),
    "scheduler.notifications": ("通知", "notifications"),
    "scheduler.counts": (
        "{queued} 待发 · {sent} 已发 · {dead} 已放弃",
        "{queued} queued · {sent} sent · {dead} dead",
    ),
    "dead": ("发送失败已放弃的通知", "Dead notifications"),
    "dead.none": ("没有。", "None."),
    "dead.reason": ("原因", "reason"),
    "dead.count": ("条数", "count"),
    "dead.channels": ("渠道", "channels"),
    "dead.kinds": ("类型", "kinds"),
    "dead.newest": ("最近一次", "latest"),
    "dead.requeue_reason": ("重新发送这一类", "Requeue these"),
    "dead.requeue_all": ("全部重新发送（{count} 条）", "Requeue all ({count})"),
    "dead.confirm_all": (
        "确定把全部 {count} 条已放弃的通知重新排队发送？收件人可能收到重复消息。",
        "Requeue all {count} dead notifications? A recipient may get a message twice.",
    ),
    "dead.confirm_reason": (
        "确定把这一类 {count} 条通知重新排队发送？",
        "Requeue these {count} notifications?",
    ),
    "dead.rows": ("最近的 {n} 条", "The latest {n}"),
    "dead.requeue_one": ("重新发送", "Requeue"),
    "dead.requeued": ("已重新排队 {n} 条。", "{n} requeued."),
    "failed": ("发送失败且不再重试的通知", "Failed for good (not retried)"),
    "col.id": ("编号", "id"),
    "col.created": ("创建时间", "created"),
    "col.updated": ("时间", "when"),
    "col.kind": ("类型", "kind"),
    "col.channel": ("渠道", "channel"),
    "col.recipient": ("收件人", "recipient"),
    "col.status": ("状态", "status"),
    "col.attempts": ("尝试", "tries"),
    "col.error": ("错误", "error"),
    "deliveries.total": ("共 {n} 条", "{n} in all"),
    "deliveries.shown": ("只列出最新的 {n} 条（--limit）", "only the newest {n} listed (--limit)"),
    "charts": ("发送量与时延", "Volumes and latency"),
    "chart.volume": (
        "每{unit}发送量（按类型与渠道）",
        "Notifications per {unit}, by kind and channel",
    ),
    "chart.unit.day": ("天", "day"),
    "chart.unit.hour": ("小时", "hour"),
    "chart.depth": ("队列深度（等待 + 延迟）", "Queue depth (waiting + delayed)"),
    "chart.latency": ("服务商时延（毫秒）", "Provider latency (ms)"),
    "chart.empty": ("这段时间没有数据", "no data in this time"),
    "chart.per_day": ("按天", "per day"),
    "chart.per_hour": ("按小时", "per hour"),
    "latency.provider": ("服务商", "provider"),
    "latency.count": ("次数", "calls"),
    "latency.p50": ("中位数", "median"),
    "latency.p95": ("95 分位", "95th pct"),
    "latency.max": ("最大", "max"),
    "compliance": ("落实情况", "Compliance"),
    "compliance.show": ("查看", "Show"),
    "compliance.period": ("期间", "Period"),
    "compliance.of": ("{org} · {period}", "{org} · {period}"),
    "compliance.none": ("还没有组织。", "No organizations yet."),
    "compliance.no_org": ("没有这个组织。", "No such organization."),
    "compliance.bad_period": (
        "不能统计的期间：{hint}，且不晚于今天。",
        "Not a period that can be reported: {hint}, up to today.",
    ),
    "compliance.low": ("低于 80% 标红", "below 80% in red"),
    "report.organization": ("组织", "organization"),
    "report.members": ("党员", "members"),
    "report.contacts": ("联系", "contacts"),
    "report.visits": ("走访", "visits"),
    "report.unassigned": ("未分配", "unassigned"),
    "report.over_load": ("超负荷联络员", "over-load"),
    "report.movers": ("迁移未配联络员", "movers w/o 1:1"),
    "report.elderly": ("80岁以上走访不足2次", "80+ <2 visits"),
    "report.no_event": ("未参加活动", "no event"),
    "foot": (
        "数据时间 {at}（{tz}）· 队列数字每 15 秒刷新，其余内容刷新页面后更新",
        "As of {at} ({tz}) · queue figures refresh every 15 s, the rest on reload",
    ),
    "docs.title": ("接口文档", "API reference"),
}

#: (group, code) → (zh-CN, en): the codes the delivery log stores, as a person reads them;
#: a code missing here is shown as it is stored
CODE_WORDS: Mapping[tuple[str, str], tuple[str, str]] = {
    ("kind", "liaison_digest"): ("联络员待办汇总", "liaison digest"),
    ("kind", "event_reminder"): ("活动提醒", "event reminder"),
    ("kind", "political_birthday"): ("政治生日祝福", "political birthday"),
    ("kind", "branch_escalation"): ("支部督办提醒", "branch escalation"),
    ("channel", "sms"): ("短信", "SMS"),
    ("channel", "email"): ("邮件", "email"),
    ("channel", "wecom"): ("企业微信", "WeCom"),
    ("status", "pending"): ("待入队", "pending"),
    ("status", "queued"): ("排队中", "queued"),
    ("status", "sending"): ("发送中", "sending"),
    ("status", "sent"): ("已发", "sent"),
    ("status", "delivered"): ("已送达", "delivered"),
    ("status", "undelivered"): ("未送达", "undelivered"),
    ("status", "failed"): ("失败", "failed"),
    ("status", "suppressed"): ("已退订不发", "opted out"),
    ("status", "deferred"): ("待免打扰结束", "deferred"),
    ("status", "cancelled"): ("已取消", "cancelled"),
    ("status", "dead"): ("已放弃", "dead"),
}


@dataclass(frozen=True)
class Labels:
    """The catalogue in one language: `t(key, **params)`."""

    lang: str = DEFAULT_LANG

    def __call__(self, key: str, **params: object) -> str:
        zh, en = LABELS[key]
        text = en if self.lang == EN else zh
        return text.format(**params) if params else text

    def word(self, group: str, code: str) -> str:
        """A stored code (`kind`, `channel` or `status`) in this language, else the code."""
        words = CODE_WORDS.get((group, code))
        if words is None:
            return code
        return words[1] if self.lang == EN else words[0]


def choose_lang(asked: str | None, remembered: str | None = None) -> str:
    """The language asked for (a query parameter), else the one remembered (a cookie),
    else Chinese; anything unknown is Chinese."""
    for lang in (asked, remembered):
        if lang in LANGS:
            return lang
    return DEFAULT_LANG
