"""Names of broker channels and keys, all under one configurable prefix.

A room's events travel on its ``public`` channel: events the audience may see in full, every
other event as a bare marker (room, epoch, seq, visibility) with no content. Processes with
sockets entitled to a marked event read its content from the event log, so nothing the
audience may not see is ever on a channel an audience socket is fed from.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channels:
    prefix: str

    def room(self, room_id: int) -> str:
        return f"{self.prefix}:room:{room_id}:public"

    def room_id_of(self, channel: str) -> int | None:
        head = f"{self.prefix}:room:"
        if channel.startswith(head) and channel.endswith(":public"):
            return int(channel[len(head) : -len(":public")])
        return None

    @property
    def control(self) -> str:
        """Process-wide notices: presence changed, access revoked, participant banned."""
        return f"{self.prefix}:control"

    def heartbeat(self, process_id: str) -> str:
        return f"{self.prefix}:heartbeat:{process_id}"

    def presence(self, room_id: int) -> str:
        return f"{self.prefix}:presence:{room_id}"

    def rate(self, scope: str, who: str) -> str:
        return f"{self.prefix}:rate:{scope}:{who}"
