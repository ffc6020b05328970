"""Who a connection is: read from the signed cookies the web pages set, resolved per event.

One cookie carries the participant ids of every event the browser joined, signed with the
secret key so it cannot be forged. HTTP routes and the WebSocket endpoint use the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from townhall.platform.participants import find_participant
from townhall.platform.viewers import Viewer

PARTICIPANT_COOKIE = "townhall_participant"
COOKIE_MAX_AGE = 60 * 60 * 24 * 365


@dataclass(frozen=True)
class Identity:
    participants: dict[int, str] = field(default_factory=dict)  # event id -> participant id

    @property
    def known(self) -> bool:
        return bool(self.participants)


def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="townhall.participant")


def read_identity(cookies: Mapping[str, str], secret: str) -> Identity:
    raw = cookies.get(PARTICIPANT_COOKIE)
    if not raw:
        return Identity()
    try:
        data = _serializer(secret).loads(raw)
    except BadSignature:
        return Identity()
    if not isinstance(data, dict):
        return Identity()
    participants = {
        int(event): pid
        for event, pid in data.get("p", {}).items()
        if str(event).isdigit() and isinstance(pid, str)
    }
    return Identity(participants=participants)


def with_participant(identity: Identity, event_id: int, participant_id: str) -> Identity:
    return Identity(participants={**identity.participants, event_id: participant_id})


def identity_cookie(identity: Identity, secret: str) -> str:
    return _serializer(secret).dumps({"p": {str(k): v for k, v in identity.participants.items()}})


async def resolve_viewer(db: AsyncSession, identity: Identity, *, event_id: int) -> Viewer | None:
    """The viewer this identity is in one event, or None if it has no part in it."""
    participant_id = identity.participants.get(event_id)
    if participant_id is None:
        return None
    participant = await find_participant(db, participant_id=participant_id)
    if participant is None or participant.event_id != event_id:
        return None
    return Viewer(
        participant_id=participant.id,
        display_name=participant.display_name,
        event_id=event_id,
        banned=participant.banned_at is not None,
    )
