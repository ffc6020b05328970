"""The event's audit log: every organizer and moderator action, written in the transaction
that makes it, and read back newest first, filtered by room, person and action."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import AuditEntry, Participant, ProgrammeSession, Question, Room


async def record(
    db: AsyncSession,
    *,
    event_id: int,
    actor: str,
    action: str,
    now: datetime,
    room_id: int | None = None,
    target: str | None = None,
    data: dict[str, object] | None = None,
) -> None:
    """Add an entry to the event's audit log (in the caller's transaction)."""
    db.add(
        AuditEntry(
            event_id=event_id,
            at=now,
            actor=actor,
            action=action,
            room_id=room_id,
            target=target,
            data=data or {},
        )
    )


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show; every part given must hold. ``person`` matches the actor or the
    target, and ``also_targets`` are more targets that stand for that person (an invitation
    for them: ``"invitation 12"``)."""

    room_id: int | None = None
    person: str | None = None
    action: str | None = None
    also_targets: Collection[str] = ()

    def apply(self, query: Select[tuple[AuditEntry]]) -> Select[tuple[AuditEntry]]:
        if self.room_id is not None:
            query = query.where(AuditEntry.room_id == self.room_id)
        if self.action:
            query = query.where(AuditEntry.action == self.action)
        if self.person:
            query = query.where(
                or_(
                    AuditEntry.actor == self.person,
                    AuditEntry.target.in_([self.person, *self.also_targets]),
                )
            )
        return query


async def list_audit(
    db: AsyncSession,
    *,
    event_id: int,
    limit: int = 1000,
    offset: int = 0,
    where: AuditFilter | None = None,
) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.event_id == event_id)
    if where is not None:
        query = where.apply(query)
    query = query.order_by(AuditEntry.id.desc()).offset(offset).limit(limit)
    return list((await db.scalars(query)).all())


@dataclass(frozen=True)
class AuditFacets:
    """What the log's filters can choose from: the rooms, actors and actions it holds."""

    room_ids: list[int]
    actors: list[str]
    actions: list[str]


async def audit_facets(db: AsyncSession, *, event_id: int) -> AuditFacets:
    async def values(column: Any) -> list[Any]:
        query = select(column).where(AuditEntry.event_id == event_id, column.isnot(None)).distinct()
        return sorted((await db.scalars(query)).all())

    return AuditFacets(
        room_ids=await values(AuditEntry.room_id),
        actors=await values(AuditEntry.actor),
        actions=await values(AuditEntry.action),
    )


async def question_texts(
    db: AsyncSession, *, event_id: int, ids: Collection[int]
) -> dict[int, str]:
    """The text of each of these questions of the event (what the log's entries name)."""
    if not ids:
        return {}
    rows = await db.execute(
        select(Question.id, Question.text)
        .join(Room, Room.id == Question.room_id)
        .join(ProgrammeSession, ProgrammeSession.id == Room.session_id)
        .where(ProgrammeSession.event_id == event_id, Question.id.in_(list(ids)))
    )
    return {row.id: row.text for row in rows}


async def participant_names(
    db: AsyncSession, *, event_id: int, ids: Collection[str]
) -> dict[str, str]:
    """The display name of each of these participants of the event (a ban names its target)."""
    if not ids:
        return {}
    rows = await db.execute(
        select(Participant.id, Participant.display_name).where(
            Participant.event_id == event_id, Participant.id.in_(list(ids))
        )
    )
    return {row.id: row.display_name for row in rows}
