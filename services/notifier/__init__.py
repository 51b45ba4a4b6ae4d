"""The notifier: an outbox of notifications, dramatiq actors that send them, the delivery log.

This is its public surface: what the scheduler, the web service and the composition root
(`services.bootstrap`) may use. Everything else in this package is private to the notifier
and may change without notice. Adding a name here is a decision; keep the list short.
"""

from services.notifier.actors import SEND_NOTIFICATION, NotifierActors, declare_actors
from services.notifier.bootstrap import (
    build_email_sender,
    build_limiters,
    build_runtime,
    build_senders,
)
from services.notifier.broker import NAMESPACE, NOTIFICATIONS_QUEUE, build_broker
from services.notifier.deliveries import (
    DeadGroup,
    DeliveryRow,
    ProviderFailures,
    count_deliveries,
    dead_by_reason,
    dead_count,
    failures_by_provider,
    list_deliveries,
    reason_of,
)
from services.notifier.enqueuing import enqueue, message_notification_ids
from services.notifier.heartbeat import WorkerSeen, add_heartbeat, live_workers
from services.notifier.opt_outs import record_opt_out, remove_opt_out
from services.notifier.outbox import (
    CREATE_CHUNK,
    NewNotification,
    apply_status_callback,
    create_notifications,
)
from services.notifier.quiet_hours import in_quiet_hours, parse_quiet_hours, release_time
from services.notifier.refreshers import (
    BatchRefresher,
    Refresher,
    register_batch_refresher,
    register_refresher,
    registered_kinds,
    unregister_refresher,
)
from services.notifier.rendering import render_message
from services.notifier.requeuing import requeue_dead
from services.notifier.runtime import DEFAULT_STALE_SENDING_S, Runtime
from services.notifier.senders.base import OutgoingMessage, Sender
from services.notifier.senders.wecom_robot import every_mailer, ops_robot_mailer
from services.notifier.sms_routes import SMS_ROUTE_ROW, sms_route_from_policy
from services.notifier.sweeps import OutboxSweeper

__all__ = [
    "CREATE_CHUNK",
    "DEFAULT_STALE_SENDING_S",
    "NAMESPACE",
    "NOTIFICATIONS_QUEUE",
    "SEND_NOTIFICATION",
    "SMS_ROUTE_ROW",
    "BatchRefresher",
    "DeadGroup",
    "DeliveryRow",
    "NewNotification",
    "NotifierActors",
    "OutboxSweeper",
    "OutgoingMessage",
    "ProviderFailures",
    "Refresher",
    "Runtime",
    "Sender",
    "WorkerSeen",
    "add_heartbeat",
    "apply_status_callback",
    "build_broker",
    "build_email_sender",
    "build_limiters",
    "build_runtime",
    "build_senders",
    "count_deliveries",
    "create_notifications",
    "dead_by_reason",
    "dead_count",
    "declare_actors",
    "enqueue",
    "every_mailer",
    "failures_by_provider",
    "in_quiet_hours",
    "list_deliveries",
    "live_workers",
    "message_notification_ids",
    "ops_robot_mailer",
    "parse_quiet_hours",
    "reason_of",
    "record_opt_out",
    "register_batch_refresher",
    "register_refresher",
    "registered_kinds",
    "release_time",
    "remove_opt_out",
    "render_message",
    "requeue_dead",
    "sms_route_from_policy",
    "unregister_refresher",
]
