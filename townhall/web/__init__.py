"""HTTP side of Townhall: pages (Jinja2), the JSON API, exports, security headers.

May import ``townhall.realtime``, ``townhall.platform`` and ``townhall.settings``; never
``townhall.app``. Handlers open one database session per request.
"""
