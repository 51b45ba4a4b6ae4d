"""The planning: what to send, to whom and when, from the tasks that are due.

The planner and its per-kind modules (`digest`, `events`, `birthdays`), their
schedules and message policy, the recipients, the workday calendars, the shards a
province's plan is split into, and the reconciliation of planned rows with what the
rules say now. It reads `services.scheduler.tasks`; nothing there reads this package.
"""
