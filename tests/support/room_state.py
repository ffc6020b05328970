"""A client's reducer of room events, written from the protocol's documented meaning of each event,
independently of the server's code.

A client that applies every event after a snapshot must hold what a fresh snapshot at the same
``seq`` says. As ``docs/protocol.md`` (Events) puts it: ``room.state_changed`` and
``room.updated`` carry ``data.changes``, the room's fields that changed, laid over
``state.room``; ``room.schedule_changed`` sets ``state.room.session.starts_at`` and ``ends_at``
and moves ``opens_at`` by the same amount (the room keeps its lead time). Instants are written
as the server writes them (UTC, ``Z``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

Message = dict[str, Any]


class UnknownEvent(AssertionError):
    pass


def apply_event(state: dict[str, Any], event: Message) -> dict[str, Any]:
    """The room state after ``event`` (a new dict; ``state`` is left alone)."""
    state = copy.deepcopy(state)
    name, data = event["name"], event["data"]
    if name in ("room.state_changed", "room.updated"):
        state["room"].update(copy.deepcopy(data["changes"]))
    elif name == "room.schedule_changed":
        room = state["room"]
        session = room["session"]
        lead = None
        if session["starts_at"] and room["opens_at"]:
            lead = instant(session["starts_at"]) - instant(room["opens_at"])
        if data["starts_at"] and lead is not None:
            room["opens_at"] = spell(instant(data["starts_at"]) - lead)
        else:
            room["opens_at"] = None
        session["starts_at"] = data["starts_at"]
        session["ends_at"] = data["ends_at"]
    else:
        raise UnknownEvent(f"the reducer does not know {name!r}")
    return state


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def spell(moment: datetime) -> str:
    """An instant as snapshots spell it: ISO 8601 in UTC with ``Z``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def replay(snapshot: Message, events: Iterable[Message]) -> Message:
    """``snapshot`` with ``events`` applied, as a snapshot message (``epoch``, ``seq``,
    ``state``) to compare whole with a fresh one."""
    state, seq = snapshot["state"], snapshot["seq"]
    for event in events:
        assert event["room"] == snapshot["room"] and event["epoch"] == snapshot["epoch"], event
        assert event["seq"] == seq + 1, f"expected seq {seq + 1}, got {event['seq']}"
        state, seq = apply_event(state, event), event["seq"]
    return {
        "type": "room.snapshot",
        "room": snapshot["room"],
        "epoch": snapshot["epoch"],
        "seq": seq,
        "state": state,
    }
