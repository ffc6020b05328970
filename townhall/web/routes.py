"""The route table: pages, JSON API, exports, static files and the WebSocket endpoint.

Every ``{name:int}`` path parameter names a row, whose id is a 32-bit integer: a larger number
in the path names no row and is answered 404 like any unknown id, instead of overflowing the
database driver (:class:`RowIdConvertor`).
"""

from __future__ import annotations

from starlette.convertors import IntegerConvertor
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from townhall.platform.models import MAX_ROW_ID
from townhall.realtime.endpoint import websocket_endpoint

from . import api, invitation_pages, language_switch, openapi, operations, pages, room_pages
from .console_routes import CONSOLE_ROUTES
from .export_routes import EXPORT_ROUTES
from .qa_routes import QA_ROUTES
from .record_routes import RECORD_ROUTES
from .report_routes import REPORT_ROUTES
from .summary_routes import SUMMARY_ROUTES
from .templating import STATIC


class RowIdConvertor(IntegerConvertor):
    """``[0-9]+`` as a row id: numbers beyond the id column's range become 0, which no row has."""

    def convert(self, value: str) -> int:
        # Length first: int() refuses strings of over 4,300 digits (a ValueError, so a 500).
        if len(value.lstrip("0")) > len(str(MAX_ROW_ID)):
            return 0
        number = int(value)
        return number if number <= MAX_ROW_ID else 0


ROW_ID = RowIdConvertor()


def bounded_ids(routes: list[BaseRoute]) -> list[BaseRoute]:
    for route in routes:
        if isinstance(route, Route):
            for name, convertor in route.param_convertors.items():
                if type(convertor) is IntegerConvertor:
                    route.param_convertors[name] = ROW_ID
    return routes


def build_routes() -> list[BaseRoute]:
    return bounded_ids(_routes())


def _routes() -> list[BaseRoute]:
    return [
        Route("/", pages.home, name="home"),
        Route("/healthz", api.health, name="health"),
        Route("/livez", operations.livez, name="livez"),
        Route("/readyz", operations.readyz, name="readyz"),
        Route("/language", language_switch.switch_language, methods=["POST"], name="language"),
        Route("/metrics", operations.prometheus_metrics, name="metrics"),
        Route("/openapi.json", openapi.openapi_json, name="openapi"),
        Route("/api/events", api.list_events, name="api_events"),
        Route("/api/events/{slug}", api.show_event, name="api_event"),
        Route("/api/events/{slug}/programme", api.show_programme, name="api_programme"),
        Route("/api/events/{slug}/participants", api.join_event, methods=["POST"], name="api_join"),
        Route("/events/{slug}", pages.event_page, name="event"),
        *EXPORT_ROUTES,
        *QA_ROUTES,
        *RECORD_ROUTES,
        *REPORT_ROUTES,
        *SUMMARY_ROUTES,
        *CONSOLE_ROUTES,
        Route("/events/{slug}/sessions/{session}", pages.session_page, name="session"),
        Route("/events/{slug}/rooms/{room_id:int}", room_pages.room_page, name="room"),
        Route("/invitations/{token}", invitation_pages.invitation_page, name="invitation"),
        Route(
            "/invitations/{token}",
            invitation_pages.accept_invitation,
            methods=["POST"],
            name="invitation_accept",
        ),
        WebSocketRoute("/ws", websocket_endpoint, name="ws"),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
