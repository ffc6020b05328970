"""Townhall: live online events with real-time rooms.

Sub-packages, imported only downwards (app -> web -> realtime -> platform):
``townhall.platform`` (domain rules and persistence), ``townhall.realtime`` (wire protocol,
broker, hub, presence) and ``townhall.web`` (HTTP routes, pages, API). ``townhall.app`` is the
composition root; ``townhall.settings`` reads the environment.
"""

__version__ = "0.1.0"
