"""Q&A over the wire: question commands, rate limits, vote coalescing, bans across processes.

Votes are recorded one row each, at once; what the room hears is a coalesced
``question.votes_changed`` with absolute counts, at most :data:`VOTE_FLUSH_EVERY` apart per
room and process, so a vote storm costs a few events a second, not one per vote.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from townhall.platform import questions
from townhall.platform.errors import RateLimited
from townhall.platform.viewers import Viewer

from .connection import Connection
from .hub import Hub
from .messages import (
    CLOSE_BANNED,
    ParticipantBan,
    QuestionApprove,
    QuestionArchive,
    QuestionAssign,
    QuestionDismiss,
    QuestionEdit,
    QuestionMarkAnswered,
    QuestionMerge,
    QuestionPin,
    QuestionPutOnAir,
    QuestionSubmit,
    QuestionUnvote,
    QuestionVote,
)

VOTE_FLUSH_EVERY = 0.3
QUESTIONS_PER_MINUTE = 5
VOTES_PER_SECOND = 5


def _viewer(connection: Connection, room_id: int) -> Viewer:
    from .commands import joined_viewer

    return joined_viewer(connection, room_id)


async def _limit(hub: Hub, scope: str, who: str, *, limit: int, window: float) -> None:
    wait = await hub.broker.hit(hub.channels.rate(scope, who), limit=limit, window=window)
    if wait:
        raise RateLimited(
            f"too many {scope}s; try again in {wait:.1f} s",
            retry_after=round(wait, 2),
            code=f"{scope}.rate_limited",
        )


async def submit(hub: Hub, connection: Connection, command: QuestionSubmit) -> Any:
    viewer = _viewer(connection, command.room)
    ref = None if command.ref is None else str(command.ref)[:80]
    if ref is not None and viewer.participant_id:
        # A retry of a question already asked answers at once, without counting again.
        async with hub.sessionmaker() as db:
            existing = await questions.find_by_ref(db, room_id=command.room, viewer=viewer, ref=ref)
        if existing is not None and existing.created_at > hub.clock.now() - questions.RETRY_WINDOW:
            return {"question": existing.id, "status": existing.status, "duplicate": True}
    await _limit(
        hub,
        "question",
        viewer.participant_id or connection.id,
        limit=QUESTIONS_PER_MINUTE,
        window=60,
    )
    async with hub.sessionmaker() as db:
        question, events = await questions.submit_question(
            db,
            room_id=command.room,
            viewer=viewer,
            text=command.text,
            anonymous=command.anonymous,
            to=command.to,
            ref=ref,
            now=hub.clock.now(),
        )
        await db.commit()
    await hub.publish(events)
    return {"question": question.id, "status": question.status, "duplicate": not events}


async def _vote(
    hub: Hub, connection: Connection, command: QuestionVote | QuestionUnvote, up: bool
) -> Any:
    viewer = _viewer(connection, command.room)
    await _limit(
        hub, "vote", viewer.participant_id or connection.id, limit=VOTES_PER_SECOND, window=1
    )
    async with hub.sessionmaker() as db:
        votes = await questions.vote(
            db,
            room_id=command.room,
            question_id=command.question,
            viewer=viewer,
            now=hub.clock.now(),
            up=up,
        )
        await db.commit()
    coalescer: VoteCoalescer = hub.extensions["votes"]
    coalescer.touch(command.room, command.question)
    return {"question": command.question, "voted": up, "votes": votes}


async def vote(hub: Hub, connection: Connection, command: QuestionVote) -> Any:
    return await _vote(hub, connection, command, True)


async def unvote(hub: Hub, connection: Connection, command: QuestionUnvote) -> Any:
    return await _vote(hub, connection, command, False)


async def _moderate(
    hub: Hub, connection: Connection, command: Any, action: Any, **args: Any
) -> Any:
    from .commands import require_staff

    moderator = require_staff(connection, command.room)
    async with hub.sessionmaker() as db:
        events = await action(
            db, room_id=command.room, moderator=moderator, now=hub.clock.now(), **args
        )
        await db.commit()
    await hub.publish(events)
    return {"seq": events[-1].seq if events else None}


async def approve(hub: Hub, c: Connection, cmd: QuestionApprove) -> Any:
    return await _moderate(hub, c, cmd, questions.approve_question, question_id=cmd.question)


async def dismiss(hub: Hub, c: Connection, cmd: QuestionDismiss) -> Any:
    return await _moderate(
        hub, c, cmd, questions.dismiss_question, question_id=cmd.question, reason=cmd.reason
    )


async def edit(hub: Hub, c: Connection, cmd: QuestionEdit) -> Any:
    return await _moderate(
        hub, c, cmd, questions.edit_question, question_id=cmd.question, text=cmd.text
    )


async def merge(hub: Hub, c: Connection, cmd: QuestionMerge) -> Any:
    return await _moderate(
        hub, c, cmd, questions.merge_question, question_id=cmd.question, into=cmd.into
    )


async def on_air(hub: Hub, c: Connection, cmd: QuestionPutOnAir) -> Any:
    return await _moderate(hub, c, cmd, questions.put_on_air, question_id=cmd.question)


async def answered(hub: Hub, c: Connection, cmd: QuestionMarkAnswered) -> Any:
    return await _moderate(
        hub, c, cmd, questions.mark_answered, question_id=cmd.question, by=cmd.by
    )


async def archive(hub: Hub, c: Connection, cmd: QuestionArchive) -> Any:
    return await _moderate(hub, c, cmd, questions.archive_question, question_id=cmd.question)


async def pin(hub: Hub, c: Connection, cmd: QuestionPin) -> Any:
    return await _moderate(
        hub, c, cmd, questions.pin_question, question_id=cmd.question, position=cmd.position
    )


async def assign(hub: Hub, c: Connection, cmd: QuestionAssign) -> Any:
    return await _moderate(
        hub, c, cmd, questions.assign_question, question_id=cmd.question, to=cmd.to
    )


async def ban(hub: Hub, c: Connection, cmd: ParticipantBan) -> Any:
    reply = await _moderate(hub, c, cmd, questions.ban_participant, participant_id=cmd.participant)
    await hub.publish_control("participant.banned", participant=cmd.participant)
    return reply


QA_HANDLERS: dict[type, Any] = {
    QuestionSubmit: submit,
    QuestionVote: vote,
    QuestionUnvote: unvote,
    QuestionApprove: approve,
    QuestionDismiss: dismiss,
    QuestionEdit: edit,
    QuestionMerge: merge,
    QuestionPutOnAir: on_air,
    QuestionMarkAnswered: answered,
    QuestionArchive: archive,
    QuestionPin: pin,
    QuestionAssign: assign,
    ParticipantBan: ban,
}


class VoteCoalescer:
    """Collects the questions whose votes changed, and logs their counts a few times a second."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.dirty: dict[int, set[int]] = {}

    def touch(self, room_id: int, question_id: int) -> None:
        self.dirty.setdefault(room_id, set()).add(question_id)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(VOTE_FLUSH_EVERY)
            dirty, self.dirty = self.dirty, {}
            for room_id, ids in dirty.items():
                async with self.hub.sessionmaker() as db:
                    events = await questions.log_vote_counts(
                        db, room_id=room_id, question_ids=ids, now=self.hub.clock.now()
                    )
                    await db.commit()
                await self.hub.publish(events)


async def snapshot_part(
    db: AsyncSession, room_id: int, viewer: Viewer, state: dict[str, Any]
) -> None:
    state.update(await questions.questions_snapshot(db, room_id=room_id, viewer=viewer))


def close_banned(hub: Hub, body: dict[str, Any]) -> None:
    """On every process: close the banned participant's sockets."""
    participant = body.get("participant")
    for connection in hub.connections_where(
        lambda c: (
            any(v.participant_id == participant for v in c.viewers.values())
            or participant in c.identity.participants.values()
        )
    ):
        connection.send(
            {
                "type": "error",
                "ref": None,
                "code": "participant.banned",
                "message": "you have been removed from this event",
            }
        )
        connection.close(CLOSE_BANNED, "banned")


def install(hub: Hub) -> None:
    coalescer = VoteCoalescer(hub)
    hub.extensions["votes"] = coalescer
    hub.add_loop(coalescer.run, "votes")
    hub.snapshot_parts.append(snapshot_part)
    hub.control_listeners["participant.banned"] = lambda body: close_banned(hub, body)
