"""The route table: pages, JSON API, exports, static files and the WebSocket endpoint."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from townhall.realtime.endpoint import websocket_endpoint

from . import api, invitation_pages, language_switch, openapi, pages, room_pages
from .console_routes import CONSOLE_ROUTES
from .export_routes import EXPORT_ROUTES
from .qa_routes import QA_ROUTES
from .templating import STATIC


def build_routes() -> list[BaseRoute]:
    return [
        Route("/", pages.home, name="home"),
        Route("/healthz", api.health, name="health"),
        Route("/language", language_switch.switch_language, methods=["POST"], name="language"),
        Route("/openapi.json", openapi.openapi_json, name="openapi"),
        Route("/api/events", api.list_events, name="api_events"),
        Route("/api/events/{slug}", api.show_event, name="api_event"),
        Route("/api/events/{slug}/programme", api.show_programme, name="api_programme"),
        Route("/api/events/{slug}/participants", api.join_event, methods=["POST"], name="api_join"),
        Route("/events/{slug}", pages.event_page, name="event"),
        *EXPORT_ROUTES,
        *QA_ROUTES,
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
