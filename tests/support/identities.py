"""The identities of the permission tests, and how each one gets its cookies.

One event, the Summit; room-scoped checks happen in workshop 1's room. The people are the
programme's own, invited the way organizers invite them (an invitation for a programme person,
so the programme says what it allows):

| identity | how |
|---|---|
| ``anonymous`` | no cookie |
| ``audience`` | ``POST /api/events/{slug}/participants`` |
| ``banned`` | the same, then ``Participant.banned_at`` set in the database |
| ``panelist`` | Sameh Wahba (workshop 1, introduction), invitation ``panelist`` |
| ``moderator`` | Güldem Özdoğan (moderates workshop 1), invitation ``moderator`` |
| ``moderator_w3`` | Begüm Özden Fırat (moderates workshop 3 only), invitation ``moderator`` |
| ``organizer`` | invitation ``organizer`` |
| ``expired`` | invitation ``organizer``, accepted, then ``expires_at`` set in the past |
| ``revoked`` | invitation ``organizer``, accepted, then ``revoked_at`` set |

Invitations are accepted while valid (``POST /invitations/{token}``) and spoiled afterwards
in the database, so the holders keep the cookies the accepting gave them. Works with any
``httpx.AsyncClient``: the ASGI app in process, or a server process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from townhall.platform import access
from townhall.platform.models import Invitation, Participant, Person
from townhall.realtime.identity import invitation_token, read_identity

from .summit import EVENT as EVENT
from .summit import WORKSHOP_1 as WORKSHOP_1

WORKSHOP_2 = "workshop-2-diversity-equity-inclusion"
WORKSHOP_3 = "workshop-3-dialogue-solidarity"

IDENTITIES = (
    "anonymous", "audience", "banned", "panelist", "moderator", "moderator_w3", "organizer",
    "expired", "revoked",
)  # fmt: skip
# identity -> (invitation role, programme person key or None)
INVITED = {
    "panelist": ("panelist", "sameh-wahba"),
    "moderator": ("moderator", "guldem-ozdogan"),
    "moderator_w3": ("moderator", "begum-ozden-firat"),
    "organizer": ("organizer", None),
    "expired": ("organizer", None),
    "revoked": ("organizer", None),
}
COOKIES = ("townhall_participant", "townhall_staff")


@dataclass(frozen=True)
class Issued:
    """An invitation made for a test: its id and the token of its link."""

    id: int
    token: str


async def person_id(db: AsyncSession, event_id: int, key: str) -> int:
    found = await db.scalar(select(Person.id).where(Person.event_id == event_id, Person.key == key))
    assert found is not None, f"no person {key!r} in the programme"
    return found


async def invite(
    db: AsyncSession,
    *,
    event_id: int,
    role: str,
    now: datetime,
    secret: str,
    person: str | None = None,
    **scope: int,
) -> Issued:
    """A new invitation (valid for a year from ``now``), committed."""
    if person is not None:
        scope["person_id"] = await person_id(db, event_id, person)
    invitation = await access.create_invitation(
        db, event_id=event_id, role=role, now=now, valid_for=timedelta(days=365), **scope
    )
    await db.commit()
    return Issued(invitation.id, invitation_token(invitation.id, invitation.nonce, secret))


async def issue_invitations(
    db: AsyncSession, *, event_id: int, now: datetime, secret: str
) -> dict[str, Issued]:
    """One invitation per invited identity."""
    return {
        identity: await invite(
            db, event_id=event_id, role=role, person=person, now=now, secret=secret
        )
        for identity, (role, person) in INVITED.items()
    }


async def sign_in(
    http: httpx.AsyncClient,
    identity: str,
    issued: Mapping[str, Issued],
    *,
    origin: str,
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The cookies ``identity`` holds (before :func:`spoil`), got the way a browser gets them."""
    sent = {"Origin": origin, **(headers or {})}
    if identity == "anonymous":
        return {}
    if identity in ("audience", "banned"):
        response = await http.post(
            f"/api/events/{EVENT}/participants", json={"display_name": identity}, headers=sent
        )
        assert response.status_code == 201, (identity, response.status_code, response.text)
    else:
        response = await http.post(f"/invitations/{issued[identity].token}", headers=sent)
        assert response.status_code == 303, (identity, response.status_code, response.text[:300])
    return {name: response.cookies[name] for name in COOKIES if name in response.cookies}


def participant_of(cookies: Mapping[str, str], secret: str) -> str:
    [participant] = read_identity(cookies, secret).participants.values()
    return participant


async def spoil(
    db: AsyncSession,
    *,
    issued: Mapping[str, Issued],
    banned_participant: str,
    now: datetime,
) -> None:
    """After the cookies were handed out: ban the banned participant, let the ``expired``
    invitation expire an hour before ``now`` and revoke the ``revoked`` one."""
    participant = await db.get(Participant, banned_participant)
    assert participant is not None
    participant.banned_at, participant.banned_by = now, "permission tests"
    expired = await db.get(Invitation, issued["expired"].id)
    revoked = await db.get(Invitation, issued["revoked"].id)
    assert expired is not None and revoked is not None
    expired.expires_at = now - timedelta(hours=1)
    revoked.revoked_at = now
    await db.commit()


def cookie_header(cookies: Mapping[str, str]) -> str | None:
    """The ``Cookie`` header a browser holding ``cookies`` sends (None: no cookie)."""
    return "; ".join(f"{name}={value}" for name, value in cookies.items()) or None
