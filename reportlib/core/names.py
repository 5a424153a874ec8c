"""Names every layer shares, declared once: service-level definitions and reporting grains.

The definitions themselves are in docs/definitions.md; the metrics layer computes them
(`reportlib.metrics.contacts.service_level_from_counts`), parameters and the command line accept
exactly these names.
"""

from __future__ import annotations

# How service level counts abandoned contacts (docs/definitions.md, "Service level").
SL_DEFINITIONS: tuple[str, ...] = ("offered", "answered", "abandons_excluded", "abandons_within_t_met")

# Time buckets the KPIs can be grouped by (local wall clock; weeks start on Monday).
GRAINS: tuple[str, ...] = ("15min", "30min", "day", "week", "month")

# The queue (and channel) name of rows that take every queue together: plan vs actual's records, the
# forecast's backtest summary. Reserved: the data contract refuses a queue of this name (rule
# queue_not_reserved), which would otherwise be read as, or added into, those rows.
ALL_QUEUES = "all"
LIVE_CHANNELS = ("phone", "chat")  # the channels answered live, staffed by Erlang and planned per interval
