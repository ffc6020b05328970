"""Every staff command writes the audit log: a moderator runs each command only staff may send
(those :data:`test_command_permissions.MATRIX` refuses the audience with ``room.forbidden``)
so that it changes something, and after each the log has grown by one entry naming the action.

A staff command added to the protocol without an entry here fails
:func:`test_every_staff_command_is_in_the_audit_run`. Not audited, and why: ``backstage.send``
(a message among staff, kept in the session record like every message, not an action).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from support.clients import ok
from support.stack import Stack
from support.summit import WORKSHOP_1
from test_command_permissions import LOBBY_OPEN, MATRIX

from townhall.platform.models import AuditEntry

AUDIENCE = 1  # MATRIX's column of the audience
NOT_AUDITED = {"backstage.send": "a message among staff, kept in the session record"}


def staff_commands() -> set[str]:
    return {kind for kind, answers in MATRIX.items() if answers[AUDIENCE] == "room.forbidden"}


def test_every_staff_command_is_in_the_audit_run() -> None:
    run = {command for command, _ in AUDITED}
    assert (staff_commands() - set(NOT_AUDITED), run) == (run, run)


# (command, the audit action it writes), in the order the run sends them
AUDITED = [
    ("room.update", "room.settings_changed"),
    ("room.set_state", "room.state_changed"),
    ("question.approve", "question.approved"),
    ("question.edit", "question.edited"),
    ("question.pin", "question.pinned"),
    ("question.assign", "question.assigned"),
    ("question.put_on_air", "question.on_air"),
    ("question.put_on_air", "question.off_air"),
    ("question.mark_answered", "question.answered"),
    ("question.archive", "question.archived"),
    ("question.dismiss", "question.dismissed"),
    ("question.restore", "question.restored"),
    ("question.merge", "question.merged"),
    ("floor.add", "floor.added"),
    ("floor.reorder", "floor.reordered"),
    ("floor.remove", "floor.removed"),
    ("floor.grant", "floor.granted"),
    ("floor.set_limit", "floor.limit_changed"),
    ("floor.end_turn", "floor.turn_ended"),
    ("participant.ban", "participant.banned"),
]


async def test_every_staff_command_writes_the_audit_log(embedded: Stack) -> None:
    server = embedded.server("a", now=LOBBY_OPEN)
    await embedded.start(server)
    room = embedded.rooms[WORKSHOP_1]
    moderator = await embedded.moderator(server)
    asker = await embedded.audience(server, "Asking Ayşe")
    for client in (moderator, asker):
        await client.join(room)
    asked = []
    for text in ("What about floods?", "And droughts?", "Floods again?", "Heat waves?"):
        asked.append((await ok(asker, "question.submit", room=room, text=text))["question"])
    first, second, third, fourth = asked
    requests: dict[str, int] = {}

    async def add(name: str, person: str) -> dict[str, Any]:
        data = await ok(moderator, "floor.add", room=room, person=person, kind="contribution")
        requests[name] = data["request"]
        return data

    def send(kind: str, **fields: Any) -> Callable[[], Awaitable[dict[str, Any]]]:
        return lambda: ok(moderator, kind, room=room, **fields)

    def send_lazy(kind: str, fields: Callable[[], dict[str, Any]]):  # type: ignore[no-untyped-def]
        return lambda: ok(moderator, kind, room=room, **fields())

    steps: list[Callable[[], Awaitable[dict[str, Any]]]] = [
        send("room.update", stage_url="https://stage.example/workshop-1"),
        send("room.set_state", action="go_live"),
        send("question.approve", question=first),
        send("question.edit", question=first, text="What about the floods in our cities?"),
        send("question.pin", question=first, position=0),
        send("question.assign", question=first, to="sameh-wahba"),
        send("question.put_on_air", question=first),
        send("question.put_on_air", question=None),
        send("question.mark_answered", question=first),
        send("question.archive", question=first),
        send("question.dismiss", question=second, reason="off topic"),
        send("question.restore", question=second),
        send("question.merge", question=fourth, into=third),
        lambda: add("sameh", "sameh-wahba"),
        lambda: add("lina", "lina-liakou"),
        send_lazy("floor.reorder", lambda: {"order": [requests["lina"], requests["sameh"]]}),
        send_lazy("floor.remove", lambda: {"request": requests["lina"]}),
        send_lazy("floor.grant", lambda: {"request": requests["sameh"]}),
        send("floor.set_limit", seconds=120),
        send("floor.end_turn"),
        send("participant.ban", participant=embedded.participant_of(asker)),
    ]
    expected = [action for _, action in AUDITED]
    expected.insert(expected.index("floor.added"), "floor.added")  # two panelists are added

    written = []
    for step in steps:
        before = await logged(embedded)
        await step()
        after = await logged(embedded)
        written.append([action for _, action in after[len(before) :]])

    assert written == [[action] for action in expected]


async def logged(stack: Stack) -> list[tuple[int, str]]:
    async with stack.db.sessionmaker() as db:
        rows = await db.execute(select(AuditEntry.id, AuditEntry.action).order_by(AuditEntry.id))
        return [(row.id, row.action) for row in rows]
