"""The worker entry module: `dramatiq services.worker` (what `liaison worker` runs).

Importing it wires the process through the one bootstrap, sets the broker and declares
every actor (sending on the `notifications` queue, planning shards on `planning`) with the
refreshers registered: that is its one job. The database engine, the senders and the
limiters are built on the first message, in the worker process.
"""

from __future__ import annotations

import logging

import dramatiq

from services.bootstrap import bootstrap
from shared.masking import MaskingFilter
from shared.settings import load_settings

wiring = bootstrap(load_settings())
broker = wiring.broker
dramatiq.set_broker(broker)
actors = wiring.actors

# dramatiq configures its own log handlers; mask personal data in whatever they print.
for handler in logging.getLogger().handlers:
    handler.addFilter(MaskingFilter())
