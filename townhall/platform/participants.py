"""The audience: pseudonymous participants of an event, known by a cookie."""

from __future__ import annotations

import secrets
import unicodedata
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import Forbidden, Invalid
from .models import Participant

MAX_NAME = 60
# Unicode categories refused in display names (white space among them is folded instead):
# control, format (invisible and bidirectional marks), private use and surrogates.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs"})


def clean_display_name(raw: str | None) -> str:
    """Trim, fold runs of white space and refuse control characters; empty gets a guest name."""
    text = " ".join((raw or "").split())
    if any(unicodedata.category(ch) in REFUSED_CATEGORIES for ch in text):
        raise Invalid(
            "display names cannot contain control characters", code="participant.invalid_name"
        )
    if len(text) > MAX_NAME:
        raise Invalid(
            f"display names are at most {MAX_NAME} characters", code="participant.name_too_long"
        )
    return text or f"Guest {secrets.randbelow(9000) + 1000}"


def new_participant_id() -> str:
    return "p_" + secrets.token_urlsafe(12)


def check_access_code(expected: str | None, given: str | None) -> None:
    """Events with an access code admit only those who give it (compared in constant time)."""
    if expected is None:
        return
    if not given or not secrets.compare_digest(
        expected.strip().casefold(), given.strip().casefold()
    ):
        raise Forbidden("this event needs its access code", code="participant.access_code")


def normalise_access_code(raw: str | None) -> str | None:
    code = " ".join((raw or "").split())
    if code and not 4 <= len(code) <= 64:
        raise Invalid("an access code has 4 to 64 characters", code="event.invalid_access_code")
    return code or None


async def create_participant(
    db: AsyncSession, *, event_id: int, display_name: str | None, now: datetime
) -> Participant:
    participant = Participant(
        id=new_participant_id(),
        event_id=event_id,
        display_name=clean_display_name(display_name),
        created_at=now,
    )
    db.add(participant)
    await db.flush()
    return participant


async def find_participant(db: AsyncSession, *, participant_id: str) -> Participant | None:
    return await db.scalar(select(Participant).where(Participant.id == participant_id))


async def rename_participant(
    db: AsyncSession, *, participant_id: str, display_name: str
) -> Participant | None:
    participant = await find_participant(db, participant_id=participant_id)
    if participant is not None:
        participant.display_name = clean_display_name(display_name)
        await db.flush()
    return participant
