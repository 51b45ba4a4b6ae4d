"""ORM tables (SQLAlchemy 2.x typed mappings). Importing this registers every table."""

from shared.models.auth import ApiToken
from shared.models.base import Base
from shared.models.ledger import (
    Assignment,
    Attendance,
    Campaign,
    Event,
    Interaction,
    Liaison,
    MaterialDelivery,
    Member,
    Move,
    Mute,
    Organization,
    Review,
    Verification,
)
from shared.models.notifications import (
    DeliveryAttempt,
    Notification,
    NotificationEvent,
    OptOut,
)
from shared.models.page import LiaisonLink, PageRecord
from shared.models.planning import PlanningMark
from shared.models.policy import CalendarOverride, PolicyOverride, Rule
from shared.models.web import InboundMessage, WebSession

__all__ = [
    "ApiToken",
    "Assignment",
    "Attendance",
    "Base",
    "CalendarOverride",
    "Campaign",
    "DeliveryAttempt",
    "Event",
    "InboundMessage",
    "Interaction",
    "Liaison",
    "LiaisonLink",
    "MaterialDelivery",
    "Member",
    "Move",
    "Mute",
    "Notification",
    "NotificationEvent",
    "OptOut",
    "Organization",
    "PageRecord",
    "PlanningMark",
    "PolicyOverride",
    "Review",
    "Rule",
    "Verification",
    "WebSession",
]
