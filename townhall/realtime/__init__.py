"""Real-time side of Townhall: wire messages, broker (in-process or Redis), hub, presence.

May import ``townhall.platform`` and ``townhall.settings``; never ``townhall.web`` or
``townhall.app``. The hub publishes only events that are already committed, and delivers each
room's events to local sockets in ``seq`` order, repairing gaps from the event log.
"""
