"""What a command may assume about its connection: that it joined the room, or is staff."""

from __future__ import annotations

from townhall.platform.errors import Forbidden
from townhall.platform.viewers import Viewer

from .connection import Connection


def joined_viewer(connection: Connection, room_id: int) -> Viewer:
    viewer = connection.viewers.get(room_id)
    if viewer is None:
        raise Forbidden("join the room first", code="room.not_joined")
    return viewer


def require_staff(connection: Connection, room_id: int) -> Viewer:
    viewer = joined_viewer(connection, room_id)
    if not viewer.is_staff(room_id):
        raise Forbidden("only the room's moderators may do that", code="room.forbidden")
    return viewer
