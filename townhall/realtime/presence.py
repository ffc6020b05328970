"""Who is in each room, across every process.

Each process writes one entry per room it has sockets in (its distinct audience members and
the named staff and panelists), with an expiry that a heartbeat keeps pushing forward: a
crashed process's entries vanish within the TTL. Changes are announced on the control
channel and pushed to sockets at most every :data:`PUSH_EVERY` seconds per room.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from townhall.platform.viewers import Viewer

PUSH_EVERY = 0.5


@dataclass
class LocalPresence:
    """This process's view of one room: how many sockets per participant, and who is staff."""

    audience: Counter[str] = field(default_factory=Counter)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    people_count: Counter[str] = field(default_factory=Counter)

    def add(self, viewer: Viewer, room_id: int, connection_id: str) -> None:
        key = viewer.participant_id or connection_id
        tier = viewer.tier(room_id)
        if tier == "audience":
            self.audience[key] += 1
        else:
            self.people_count[key] += 1
            self.people[key] = {
                "participant": viewer.participant_id,
                "name": viewer.display_name,
                "role": "moderator" if tier == "staff" else "panelist",
            }

    def remove(self, viewer: Viewer, room_id: int, connection_id: str) -> None:
        key = viewer.participant_id or connection_id
        counter = self.audience if viewer.tier(room_id) == "audience" else self.people_count
        counter[key] -= 1
        if counter[key] <= 0:
            del counter[key]
            if counter is self.people_count:
                self.people.pop(key, None)

    @property
    def empty(self) -> bool:
        return not self.audience and not self.people_count

    def entry(self, ttl: float) -> bytes:
        return json.dumps(
            {
                "audience": len(self.audience),
                "people": sorted(self.people.values(), key=lambda p: (p["role"], p["name"] or "")),
                "expires": time.time() + ttl,
            }
        ).encode()


def aggregate(room_id: int, entries: dict[str, bytes]) -> dict[str, Any]:
    """Sum every live process's entry into the message sockets receive."""
    now = time.time()
    audience = 0
    people: dict[str, dict[str, Any]] = {}
    for raw in entries.values():
        entry = json.loads(raw)
        if entry.get("expires", 0) < now:
            continue
        audience += entry["audience"]
        for person in entry["people"]:
            people[person["participant"] or person["name"] or ""] = person
    return {
        "type": "presence",
        "room": room_id,
        "audience": audience,
        "people": sorted(people.values(), key=lambda p: (p["role"], p["name"] or "")),
    }
