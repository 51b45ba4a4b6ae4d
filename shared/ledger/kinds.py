"""The ledger interchange format as data: every kind, its columns, aliases and key.

This mirrors `ledger-format.md`, the contract for import and export. Importer, exporter
and synthetic-ledger writer all read it from here, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.ledger import spellings as words


class ValueType(StrEnum):
    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"  #: local wall time in the organization's time zone
    PHONE = "phone"
    EMAIL = "email"
    ID_NUMBER = "id_number"
    TIMEZONE = "timezone"
    RRULE = "rrule"
    CHOICE = "choice"
    URL = "url"


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    type: ValueType = ValueType.TEXT
    choices: tuple[str, ...] = ()
    #: the Chinese words accepted for the choices (`spellings.py`; docs/ledger.md lists them)
    spellings: words.Spellings = ()
    default: str | None = None
    references: str | None = None  #: the kind whose key this column names
    personal: bool = False  #: masked in errors, logs and default exports
    max_length: int = 200
    #: gives back what a personal column's mask hides (a birth date is the ID number's
    #: hidden digits): hidden whole wherever that column is masked
    restores_personal: bool = False


@dataclass(frozen=True)
class Kind:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  #: columns that identify a row; importing an existing key updates it
    #: entity kinds reject a key repeated within the file set; fact kinds treat a repeat as the
    #: same fact recorded twice (the later row wins)
    entity: bool
    #: (earlier, later) date columns that cannot come the other way round; `BIRTH` is the
    #: birth date, from `birth_date` or else from the ID number
    date_order: tuple[tuple[str, str], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


BIRTH = "birth date"  #: in `Kind.date_order`: the person's birth date, however known

STATUSES = ("active", "returned", "transferred", "deceased")
#: how a person wants to hear from us; "wecom" needs a WeCom user id (企业微信账号)
CHANNELS = (
    "sms",
    "email",
    "sms+email",
    "wecom",
    "sms+wecom",
    "email+wecom",
    "sms+email+wecom",
)
INTERACTION_KINDS = ("phone", "sms", "wechat", "visit", "meeting", "other")
PLACES = ("home", "workplace", "other")
EVENT_TYPES = (
    "branch_meeting",
    "committee_meeting",
    "group_meeting",
    "party_lecture",
    "theme_day",
    "other",
)

_phone = {"type": ValueType.PHONE, "personal": True}
_email = {"type": ValueType.EMAIL, "personal": True}

#: how a member or a liaison is reached: their language, channels and WeCom account
_HOW_TO_REACH = (
    Column("locale", ("语言",), default="zh-CN", max_length=16),
    Column(
        "channels",
        ("接收方式",),
        type=ValueType.CHOICE,
        choices=CHANNELS,
        spellings=words.CHANNEL_PARTS,
        default="sms",
    ),
    Column("wecom_userid", ("企业微信账号", "企业微信"), max_length=64),
)

ORGANIZATIONS = Kind(
    "organizations",
    (
        Column("code", ("组织编码",), required=True, max_length=64),
        Column("name", ("组织名称",), required=True),
        Column("parent_code", ("上级组织编码",), references="organizations", max_length=64),
        Column("timezone", ("时区",), type=ValueType.TIMEZONE),
        Column("secretary_name", ("书记",)),
        Column("secretary_phone", ("书记电话",), **_phone),  # type: ignore[arg-type]
        Column("secretary_email", ("书记邮箱",), **_email),  # type: ignore[arg-type]
    ),
    key=("code",),
    entity=True,
)

MEMBERS = Kind(
    "members",
    (
        Column("member_id", ("编号",), required=True, max_length=64),
        Column("name", ("姓名",), required=True),
        Column("id_number", ("身份证号",), required=True, type=ValueType.ID_NUMBER, personal=True),
        Column("home_org", ("流出地党组织",), required=True, references="organizations"),
        Column("join_date", ("入党日期",), required=True, type=ValueType.DATE),
        Column("mobile_since", ("外出日期",), required=True, type=ValueType.DATE),
        Column("phone", ("手机号",), **_phone),  # type: ignore[arg-type]
        Column("email", ("邮箱",), **_email),  # type: ignore[arg-type]
        Column("birth_date", ("出生日期",), type=ValueType.DATE, restores_personal=True),
        Column("host_org", ("流入地党组织",), references="organizations"),
        Column("location", ("现居住地",)),
        Column("industry", ("从事行业",)),
        Column("reason", ("外出原因",)),
        Column("certificate_no", ("活动证编号",)),
        Column("certificate_issued_on", ("发证日期",), type=ValueType.DATE),
        Column(
            "status",
            ("状态",),
            type=ValueType.CHOICE,
            choices=STATUSES,
            spellings=words.STATUSES,
            default="active",
        ),
        *_HOW_TO_REACH,
    ),
    key=("member_id",),
    entity=True,
    date_order=(
        (BIRTH, "join_date"),
        (BIRTH, "mobile_since"),
        (BIRTH, "certificate_issued_on"),
        # the certificate (流动党员活动证) is issued to a party member
        ("join_date", "certificate_issued_on"),
    ),
)

LIAISONS = Kind(
    "liaisons",
    (
        Column("liaison_id", ("联络员编号",), required=True, max_length=64),
        Column("name", ("姓名",), required=True),
        Column("org", ("所属组织",), required=True, references="organizations"),
        Column("phone", ("手机号",), **_phone),  # type: ignore[arg-type]
        Column("email", ("邮箱",), **_email),  # type: ignore[arg-type]
        *_HOW_TO_REACH,
    ),
    key=("liaison_id",),
    entity=True,
)

ASSIGNMENTS = Kind(
    "assignments",
    (
        Column("member_id", ("编号", "党员编号"), required=True, references="members"),
        Column("liaison_id", ("联络员编号",), required=True, references="liaisons"),
        Column("from", ("开始日期",), required=True, type=ValueType.DATE),
        Column("to", ("结束日期",), type=ValueType.DATE),
    ),
    key=("member_id", "from"),
    entity=False,
    date_order=(("from", "to"),),
)

INTERACTIONS = Kind(
    "interactions",
    (
        Column("member_id", ("编号", "党员编号"), required=True, references="members"),
        Column(
            "kind",
            ("方式",),
            required=True,
            type=ValueType.CHOICE,
            choices=INTERACTION_KINDS,
            spellings=words.INTERACTION_KINDS,
        ),
        Column("on", ("日期",), required=True, type=ValueType.DATE),
        Column("place", ("地点",), type=ValueType.CHOICE, choices=PLACES, spellings=words.PLACES),
        Column("liaison_id", ("联络员编号",), references="liaisons"),
        Column("note", ("备注",), max_length=2000),
    ),
    #: two visits on one day at two places are two facts (an empty place is one place)
    key=("member_id", "on", "kind", "place"),
    entity=False,
)

MOVES = Kind(
    "moves",
    (
        Column("member_id", ("编号", "党员编号"), required=True, references="members"),
        Column("on", ("日期",), required=True, type=ValueType.DATE),
        Column("location", ("地点",), required=True),
    ),
    key=("member_id", "on"),
    entity=False,
)

EVENTS = Kind(
    "events",
    (
        Column("event_id", ("活动编号",), required=True, max_length=64),
        Column("org", ("组织编码", "所属组织"), required=True, references="organizations"),
        Column(
            "type",
            ("类型",),
            required=True,
            type=ValueType.CHOICE,
            choices=EVENT_TYPES,
            spellings=words.EVENT_TYPES,
        ),
        Column("starts_at", ("开始时间",), required=True, type=ValueType.DATETIME),
        Column("title", ("主题",)),
        Column("location", ("地点",)),
        Column("online_url", ("线上链接",), type=ValueType.URL, max_length=500),
        Column("rrule", ("重复规则",), type=ValueType.RRULE, max_length=500),
    ),
    key=("event_id",),
    entity=True,
)

ATTENDANCE = Kind(
    "attendance",
    (
        Column("event_id", ("活动编号",), required=True, references="events"),
        Column("member_id", ("编号", "党员编号"), required=True, references="members"),
        Column("on", ("日期",), required=True, type=ValueType.DATE),
    ),
    key=("event_id", "member_id", "on"),
    entity=False,
)

CAMPAIGNS = Kind(
    "campaigns",
    (
        Column("campaign_id", ("活动编号", "学习活动编号"), required=True, max_length=64),
        Column("title", ("标题", "主题"), required=True),
        Column("org", ("范围",), required=True, references="organizations"),
        Column("start", ("开始日期",), required=True, type=ValueType.DATE),
        Column("end", ("结束日期",), type=ValueType.DATE),
    ),
    key=("campaign_id",),
    entity=True,
    date_order=(("start", "end"),),
)

DELIVERIES = Kind(
    "deliveries",
    (
        Column("campaign_id", ("学习活动编号",), required=True, references="campaigns"),
        Column("member_id", ("编号", "党员编号"), required=True, references="members"),
        Column("on", ("日期", "发放日期"), required=True, type=ValueType.DATE),
    ),
    key=("campaign_id", "member_id"),
    entity=False,
)

REVIEWS = Kind(
    "reviews",
    (
        Column("member_id", ("编号", "党员编号"), required=True, references="members"),
        Column("on", ("审核日期",), required=True, type=ValueType.DATE),
    ),
    key=("member_id", "on"),
    entity=False,
)

#: An extension of the contract: `ledger_verification` (off by default) needs somewhere
#: to record "this member's record was re-verified on…".
VERIFICATIONS = Kind(
    "verifications",
    (
        Column("member_id", ("编号", "党员编号"), required=True, references="members"),
        Column("on", ("核实日期",), required=True, type=ValueType.DATE),
    ),
    key=("member_id", "on"),
    entity=False,
)

#: An extension of the contract: a member muted for a span of dates (in hospital, say)
#: is out of scope on those dates and hears nothing.
MUTES = Kind(
    "mutes",
    (
        Column("member_id", ("编号", "党员编号"), required=True, references="members"),
        Column("from", ("开始日期",), required=True, type=ValueType.DATE),
        Column("to", ("结束日期",), type=ValueType.DATE),
        Column("reason", ("原因",)),
    ),
    key=("member_id", "from"),
    entity=False,
    date_order=(("from", "to"),),
)

#: Import order: every kind after the kinds it references.
KINDS: tuple[Kind, ...] = (
    ORGANIZATIONS,
    LIAISONS,
    MEMBERS,
    ASSIGNMENTS,
    EVENTS,
    CAMPAIGNS,
    INTERACTIONS,
    MOVES,
    ATTENDANCE,
    DELIVERIES,
    REVIEWS,
    VERIFICATIONS,
    MUTES,
)
KINDS_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}


def kind_for_filename(stem: str) -> Kind | None:
    """`members`, `members-2026`, `Members_2026` → the members kind; unknown → None."""
    lowered = stem.lower()
    for kind in sorted(KINDS, key=lambda k: -len(k.name)):
        if lowered == kind.name or lowered.startswith((kind.name + "-", kind.name + "_")):
            return kind
    return None
