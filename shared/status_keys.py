"""The Redis keys through which the scheduler tells monitors how it is doing.

The scheduler writes them; `liaison status`, `/metrics`, `/readyz` and the dashboard read
them. One definition, so that writer and readers cannot drift apart.
"""

from __future__ import annotations

#: JSON of the last successful tick: its counts and its instant (`"at"`, ISO 8601)
LAST_TICK_KEY = "liaison:scheduler:last_tick"
#: held (with a TTL) by the one scheduler replica that acts
LEASE_KEY = "liaison:scheduler:lease"
#: JSON list of the years whose official adjusted working days are not known yet
CALENDAR_KEY = "liaison:scheduler:calendar_gaps"
#: JSON of the last failed tick: `{"at": ISO, "error": one masked line}`
LAST_FAILURE_KEY = "liaison:scheduler:last_failure"
#: how many ticks gave up waiting for the workers to plan their shards (a counter)
PLANNING_TIMEOUTS_KEY = "liaison:scheduler:planning_timeouts"
