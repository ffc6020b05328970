"""Who a connection is: read from the signed cookies the web pages set, resolved per event.

One cookie carries the participant ids of every event the browser joined, another the
invitations it redeemed; both are signed with the secret key so they cannot be forged. What an
invitation allows is worked out from the database each time (revocation, expiry and programme
changes apply at once). HTTP routes and the WebSocket endpoint use the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.ext.asyncio import AsyncSession

from townhall.platform.access import grants_of, viewer_with_grants
from townhall.platform.participants import find_participant
from townhall.platform.viewers import Viewer

PARTICIPANT_COOKIE = "townhall_participant"
STAFF_COOKIE = "townhall_staff"
MAX_INVITATIONS = 20
COOKIE_MAX_AGE = 60 * 60 * 24 * 365


@dataclass(frozen=True)
class Identity:
    participants: dict[int, str] = field(default_factory=dict)  # event id -> participant id
    invitations: tuple[int, ...] = ()

    @property
    def known(self) -> bool:
        return bool(self.participants or self.invitations)


def _serializer(secret: str, salt: str = "townhall.participant") -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=salt)


def _load(cookies: Mapping[str, str], name: str, secret: str, salt: str) -> object:
    raw = cookies.get(name)
    if not raw:
        return None
    try:
        return _serializer(secret, salt).loads(raw)
    except BadSignature:
        return None


def read_identity(cookies: Mapping[str, str], secret: str) -> Identity:
    data = _load(cookies, PARTICIPANT_COOKIE, secret, "townhall.participant")
    participants = {}
    if isinstance(data, dict) and isinstance(data.get("p"), dict):
        participants = {
            int(event): pid
            for event, pid in data["p"].items()
            if str(event).isdigit() and isinstance(pid, str)
        }
    staff = _load(cookies, STAFF_COOKIE, secret, "townhall.staff")
    invitations: tuple[int, ...] = ()
    if isinstance(staff, list):
        invitations = tuple(i for i in staff if isinstance(i, int))[-MAX_INVITATIONS:]
    return Identity(participants=participants, invitations=invitations)


def with_participant(identity: Identity, event_id: int, participant_id: str) -> Identity:
    return Identity({**identity.participants, event_id: participant_id}, identity.invitations)


def with_invitation(identity: Identity, invitation_id: int) -> Identity:
    kept = tuple(i for i in identity.invitations if i != invitation_id)
    return Identity(identity.participants, (*kept, invitation_id)[-MAX_INVITATIONS:])


def identity_cookie(identity: Identity, secret: str) -> str:
    return _serializer(secret).dumps({"p": {str(k): v for k, v in identity.participants.items()}})


def staff_cookie(identity: Identity, secret: str) -> str:
    return _serializer(secret, "townhall.staff").dumps(list(identity.invitations))


def invitation_token(invitation_id: int, nonce: str, secret: str) -> str:
    return _serializer(secret, "townhall.invitation").dumps([invitation_id, nonce])


def read_invitation_token(token: str, secret: str) -> tuple[int, str] | None:
    try:
        data = _serializer(secret, "townhall.invitation").loads(token)
    except BadSignature:
        return None
    if isinstance(data, list) and len(data) == 2 and isinstance(data[0], int):
        return data[0], str(data[1])
    return None


async def resolve_viewer(
    db: AsyncSession, identity: Identity, *, event_id: int, now: datetime
) -> Viewer | None:
    """The viewer this identity is in one event, or None if it has no part in it."""
    viewer = None
    participant_id = identity.participants.get(event_id)
    if participant_id is not None:
        participant = await find_participant(db, participant_id=participant_id)
        if participant is not None and participant.event_id == event_id:
            viewer = Viewer(
                participant_id=participant.id,
                display_name=participant.display_name,
                event_id=event_id,
                banned=participant.banned_at is not None,
            )
    if identity.invitations:
        grants, invitations = await grants_of(
            db, event_id=event_id, invitation_ids=list(identity.invitations), now=now
        )
        if viewer is None and invitations and invitations[0].participant_id:
            viewer = Viewer(participant_id=invitations[0].participant_id, event_id=event_id)
        viewer = viewer_with_grants(viewer, grants, event_id=event_id)
    return viewer
