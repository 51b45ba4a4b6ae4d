"""A small two-town ledger for the web tests: each town has a branch, a liaison and a member.

C (county) ── A (town) ── A1 (branch): liaison LA, member MA (+ campaign CA)
           └─ B (town) ── B1 (branch): liaison LB, member MB
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, insert

from services.scheduler.planning.digest import digest_data
from services.scheduler.tasks.due import DueQuery, compute_due
from shared.db import transaction
from shared.models import (
    Assignment,
    Campaign,
    Liaison,
    Member,
    Notification,
    Organization,
)

AS_OF = date(2026, 11, 20)
#: 10:00 on AS_OF in Asia/Shanghai
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
PHONE_LA = "+8613800000001"
PHONE_LB = "+8613900000002"
PHONE_MA = "+8613712345678"


def seed_ledger(engine: Engine) -> None:
    with transaction(engine) as s:
        s.execute(
            insert(Organization),
            [
                {"code": "C", "name": "县委", "parent_code": None},
                {"code": "A", "name": "甲镇", "parent_code": "C"},
                {"code": "B", "name": "乙镇", "parent_code": "C"},
                {"code": "A1", "name": "甲村支部", "parent_code": "A"},
                {"code": "B1", "name": "乙村支部", "parent_code": "B"},
            ],
        )
        s.execute(
            insert(Liaison),
            [
                {"liaison_id": "LA", "name": "联络员甲", "org": "A1", "phone": PHONE_LA},
                {
                    "liaison_id": "LB",
                    "name": "Liaison B",
                    "org": "B1",
                    "phone": PHONE_LB,
                    "locale": "en",
                },
            ],
        )
        common: dict[str, Any] = {
            "join_date": date(2000, 7, 1),
            "mobile_since": date(2020, 1, 1),
            "status": "active",
            # issued six months before a date inside the review's 14-day lead window
            "certificate_issued_on": date(2026, 5, 25),
        }
        s.execute(
            insert(Member),
            [
                {
                    "member_id": "MA",
                    "name": "张三",
                    "id_number": "110105199001011237",
                    "home_org": "A1",
                    "phone": PHONE_MA,
                    **common,
                },
                {
                    "member_id": "MB",
                    "name": "李四",
                    "id_number": "110105198502023456",
                    "home_org": "B1",
                    "phone": "+8613798765432",
                    **common,
                },
            ],
        )
        s.execute(
            insert(Assignment),
            [
                {"member_id": "MA", "liaison_id": "LA", "from_date": date(2020, 1, 1)},
                {"member_id": "MB", "liaison_id": "LB", "from_date": date(2020, 1, 1)},
            ],
        )
        s.execute(
            insert(Campaign),
            [
                {
                    "campaign_id": "CA",
                    "title": "学习材料",
                    "org": "A",
                    "start": date(2026, 11, 1),
                    "end": date(2026, 12, 31),
                }
            ],
        )


def send_digest(engine: Engine, liaison_id: str, *, status: str = "sent") -> dict[str, Any]:
    """A digest of the liaison's open tasks on AS_OF, as if the planner sent it; its data."""
    tasks = list(compute_due(engine, DueQuery(AS_OF, liaison_id=liaison_id)))
    data = digest_data(liaison_id, AS_OF, tasks)
    with transaction(engine) as s:
        s.add(
            Notification(
                kind="liaison_digest",
                channel="sms",
                recipient_type="liaison",
                recipient_id=liaison_id,
                address=PHONE_LA if liaison_id == "LA" else PHONE_LB,
                locale="zh-CN",
                timezone="Asia/Shanghai",
                data=data,
                occasion=f"digest:{AS_OF.isoformat()}:{status}",
                idempotency_key=f"digest-{liaison_id}-{status}-{len(tasks)}",
                status=status,
                attempts=1,
                provider_message_id=f"SM{liaison_id}{status}",
                created_at=NOW,
                updated_at=NOW,
            )
        )
    return data
