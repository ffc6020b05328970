"""Q&A over the wire: question commands, rate limits, bans across processes.

Submitting and voting read the participant afresh (one query): a ban committed on any process
stops their next question or vote even when the ban notice has not arrived (Redis away). Vote
counts reach the room through :mod:`.votes`.
"""

from __future__ import annotations

from typing import Any

from townhall.platform import questions
from townhall.platform.errors import Forbidden, RateLimited
from townhall.platform.viewers import Viewer

from .connection import Connection
from .guards import joined_viewer, require_staff
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
    QuestionRestore,
    QuestionSubmit,
    QuestionUnvote,
    QuestionVote,
    error,
)
from .votes import VoteCoalescer

QUESTIONS_PER_MINUTE = 5
VOTES_PER_SECOND = 5
BANNED_MESSAGE = "you have been removed from this event"


async def _acting_viewer(hub: Hub, connection: Connection, room_id: int) -> Viewer:
    """The joined viewer, read afresh: their name as it is now, and whether they are banned."""
    joined = joined_viewer(connection, room_id)
    if joined.event_id is None:
        return joined
    if joined.participant_id is None and joined.tier(room_id) == "audience":
        # A visitor (no identity in the event): asking and voting need a participant.
        raise Forbidden(
            "join the event first: POST /api/events/{slug}/participants",
            code="auth.required",
            event=joined.event_id,
        )
    fresh = await hub.viewers.fresh_viewer(
        connection.identity, event_id=joined.event_id, now=hub.clock.now()
    )
    if fresh is None or fresh.banned:
        connection.send(error(None, "participant.banned", BANNED_MESSAGE))
        connection.close(CLOSE_BANNED, "banned")
        raise Forbidden(BANNED_MESSAGE, code="participant.banned")
    return fresh


async def _limit(hub: Hub, scope: str, who: str, *, limit: int, window: float) -> None:
    wait = await hub.broker.hit(hub.channels.rate(scope, who), limit=limit, window=window)
    if wait:
        raise RateLimited(
            f"too many {scope}s; try again in {wait:.1f} s",
            retry_after=round(wait, 2),
            code=f"{scope}.rate_limited",
        )


async def submit(hub: Hub, connection: Connection, command: QuestionSubmit) -> Any:
    viewer = await _acting_viewer(hub, connection, command.room)
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
            language=command.language,
            now=hub.clock.now(),
        )
        await db.commit()
    await hub.publish(events)
    return {"question": question.id, "status": question.status, "duplicate": not events}


async def _vote(
    hub: Hub, connection: Connection, command: QuestionVote | QuestionUnvote, up: bool
) -> Any:
    viewer = await _acting_viewer(hub, connection, command.room)
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
    coalescer: VoteCoalescer = hub.services["votes"]
    coalescer.touch(command.room, command.question)
    return {"question": command.question, "voted": up, "votes": votes}


async def vote(hub: Hub, connection: Connection, command: QuestionVote) -> Any:
    return await _vote(hub, connection, command, True)


async def unvote(hub: Hub, connection: Connection, command: QuestionUnvote) -> Any:
    return await _vote(hub, connection, command, False)


async def _moderate(
    hub: Hub, connection: Connection, command: Any, action: Any, **args: Any
) -> Any:
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


async def restore(hub: Hub, c: Connection, cmd: QuestionRestore) -> Any:
    return await _moderate(hub, c, cmd, questions.restore_question, question_id=cmd.question)


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
    moderator = require_staff(c, cmd.room)
    present = not moderator.organizer and await hub.presence.is_present(
        cmd.participant, sorted(moderator.moderates)
    )
    reply = await _moderate(
        hub,
        c,
        cmd,
        questions.ban_participant,
        participant_id=cmd.participant,
        present_in_their_rooms=present,
    )
    await hub.publish_control("participant.banned", participant=cmd.participant)
    return reply


QA_HANDLERS: dict[type, Any] = {
    QuestionSubmit: submit,
    QuestionVote: vote,
    QuestionUnvote: unvote,
    QuestionApprove: approve,
    QuestionDismiss: dismiss,
    QuestionRestore: restore,
    QuestionEdit: edit,
    QuestionMerge: merge,
    QuestionPutOnAir: on_air,
    QuestionMarkAnswered: answered,
    QuestionArchive: archive,
    QuestionPin: pin,
    QuestionAssign: assign,
    ParticipantBan: ban,
}


def close_banned(hub: Hub, body: dict[str, Any]) -> None:
    """On every process: close the banned participant's sockets."""
    participant = body.get("participant")
    if isinstance(participant, str):
        hub.viewers.note_banned(participant)
    for connection in hub.connections_where(
        lambda c: (
            any(v.participant_id == participant for v in c.viewers.values())
            or participant in c.identity.participants.values()
        )
    ):
        connection.send(error(None, "participant.banned", BANNED_MESSAGE))
        connection.close(CLOSE_BANNED, "banned")


def install(hub: Hub) -> VoteCoalescer:
    coalescer = VoteCoalescer(sessionmaker=hub.sessionmaker, clock=hub.clock, publish=hub.publish)
    hub.services["votes"] = coalescer
    hub.add_loop(coalescer.run, "votes")
    hub.control.listen("participant.banned", lambda body: close_banned(hub, body))
    return coalescer
