"""The permission matrix of the live protocol: every command of ``COMMAND_TYPES``, for every
identity of :mod:`support.identities`, in workshop 1's room, answers exactly what
``docs/protocol.md`` and ``docs/security.md`` allow. And rights follow the database while
connected: a moderator whose invitation an organizer revokes in the console loses them within
seconds. And no cookie, however mighty, opens a WebSocket from another site.

An entry of :data:`MATRIX` is ``"reply"`` (``"reply <tier>"`` for ``room.join``), ``"pong"``,
or the code of the ``error`` that answered. A domain error past the permission check counts as
allowed: the commands act on a question (or participant) that does not exist, so
``question.not_found`` (``participant.not_found``) is what staff get, ``room.forbidden`` what
everyone else gets. Each identity joins the room first (where it may), sends every command on
that connection and leaves last; a banned participant, whose join closes the connection, sends
the rest on a second connection that never joined.

One embedded server (SQLite, in-process broker) serves the whole module, its rehearsal clock
at 15:50 in Izmir: workshop 1's lobby is open, so questions may be asked.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from support.clients import Client, Message, audience_cookie, forwarded_for
from support.identities import (
    EVENT,
    IDENTITIES,
    INVITED,
    WORKSHOP_1,
    WORKSHOP_3,
    Issued,
    cookie_header,
    invite,
    issue_invitations,
    participant_of,
    sign_in,
    spoil,
)
from support.servers import ServerProcess
from support.stack import SECRET_KEY, Stack
from websockets.exceptions import ConnectionClosed, InvalidStatus

from townhall.platform import programme
from townhall.platform.models import Room
from townhall.realtime.messages import COMMAND_TYPES

LOBBY_OPEN = "2021-12-08T15:50:00+03:00"  # workshop 1 opens at 15:45, starts at 16:00
LOBBY_OPEN_UTC = datetime(2021, 12, 8, 12, 50, tzinfo=UTC)
MISSING = 999_999  # no such question

# ---- the matrix ------------------------------------------------------------------------
# What each command carries besides ``room`` (workshop 1's), in the order they are sent.
COMMANDS: dict[str, dict[str, Any]] = {
    "room.join": {},
    "ping": {},
    "room.set_state": {"action": "follow_schedule"},  # already following it: changes nothing
    "room.update": {"stage_url": "https://stage.example/permissions"},
    "question.submit": {"text": "Who may do what in this room?"},
    "question.vote": {"question": MISSING},
    "question.unvote": {"question": MISSING},
    "question.approve": {"question": MISSING},
    "question.dismiss": {"question": MISSING, "reason": "permission matrix"},
    "question.restore": {"question": MISSING},
    "question.edit": {"question": MISSING, "text": "Edited by the permission matrix"},
    "question.merge": {"question": MISSING, "into": MISSING + 1},
    "question.put_on_air": {"question": None},  # takes nothing off air: a real reply
    "question.mark_answered": {"question": MISSING},
    "question.archive": {"question": MISSING},
    "question.pin": {"question": MISSING, "position": 0},
    "question.assign": {"question": MISSING, "to": None},
    "participant.ban": {"participant": "p_nobody"},
    # The floor and backstage: each body is refused by the domain past its permission check
    # (nobody speaks, no such request or panelist, an empty message), so nothing changes.
    "floor.request": {"kind": "reply"},
    "floor.withdraw": {"request": MISSING},
    "floor.add": {"person": "nobody-at-all", "kind": "contribution"},
    "floor.remove": {"request": MISSING},
    "floor.reorder": {"order": [MISSING]},
    "floor.grant": {"request": MISSING},
    "floor.end_turn": {},
    "floor.set_limit": {"seconds": 60},
    "backstage.send": {"text": ""},
    "room.leave": {},
}
NO_ROOM = {"ping"}

R = "reply"
PONG = "pong"
AUTH = "auth.required"  # a visitor (no identity in the event) asks or votes: stays open
NJ = "room.not_joined"
F = "room.forbidden"
Q = "question.not_found"  # past the permission check
P = "participant.not_found"  # past the permission check
RA, RP, RS = "reply audience", "reply panel", "reply staff"  # joined, with this tier
BAN = "participant.banned, closed 4003"
# The floor and backstage, past the permission check:
NS = "floor.nobody_speaking"  # a reply (or an end of turn, a new limit) with nobody speaking
FNF = "floor.not_found"
UP = "floor.unknown_panelist"
BO = "floor.bad_order"
BE = "backstage.empty"
# ... refused by it:
PO = "floor.panel_only"  # only the session's panelists use the floor
MA = "floor.moderators_add"  # staff put panelists on the list with floor.add
BF = "backstage.forbidden"

#                              anon   aud   ban   pan   mod   mod3  org   exp   rev
MATRIX: dict[str, tuple[str, ...]] = {
    "room.join":              (RA,    RA,   BAN,  RP,   RS,   RA,   RS,   RA,   RA),
    "ping":                   (PONG,  PONG, PONG, PONG, PONG, PONG, PONG, PONG, PONG),
    "room.set_state":         (F,     F,    NJ,   F,    R,    F,    R,    F,    F),
    "room.update":            (F,     F,    NJ,   F,    R,    F,    R,    F,    F),
    "question.submit":        (AUTH,  R,    NJ,   R,    R,    R,    R,    R,    R),
    "question.vote":          (AUTH,  Q,    NJ,   Q,    Q,    Q,    Q,    Q,    Q),
    "question.unvote":        (AUTH,  Q,    NJ,   Q,    Q,    Q,    Q,    Q,    Q),
    "question.approve":       (F,     F,    NJ,   F,    Q,    F,    Q,    F,    F),
    "question.dismiss":       (F,     F,    NJ,   F,    Q,    F,    Q,    F,    F),
    "question.restore":       (F,     F,    NJ,   F,    Q,    F,    Q,    F,    F),
    "question.edit":          (F,     F,    NJ,   F,    Q,    F,    Q,    F,    F),
    "question.merge":         (F,     F,    NJ,   F,    Q,    F,    Q,    F,    F),
    "question.put_on_air":    (F,     F,    NJ,   F,    R,    F,    R,    F,    F),
    "question.mark_answered": (F,     F,    NJ,   F,    Q,    F,    Q,    F,    F),
    "question.archive":       (F,     F,    NJ,   F,    Q,    F,    Q,    F,    F),
    "question.pin":           (F,     F,    NJ,   F,    Q,    F,    Q,    F,    F),
    "question.assign":        (F,     F,    NJ,   F,    Q,    F,    Q,    F,    F),
    "participant.ban":        (F,     F,    NJ,   F,    P,    F,    P,    F,    F),
    "floor.request":          (PO,    PO,   NJ,   NS,   MA,   PO,   MA,   PO,   PO),
    "floor.withdraw":         (PO,    PO,   NJ,   FNF,  FNF,  PO,   FNF,  PO,   PO),
    "floor.add":              (F,     F,    NJ,   F,    UP,   F,    UP,   F,    F),
    "floor.remove":           (F,     F,    NJ,   F,    FNF,  F,    FNF,  F,    F),
    "floor.reorder":          (F,     F,    NJ,   F,    BO,   F,    BO,   F,    F),
    "floor.grant":            (F,     F,    NJ,   F,    FNF,  F,    FNF,  F,    F),
    "floor.end_turn":         (F,     F,    NJ,   NS,   NS,   F,    NS,   F,    F),
    "floor.set_limit":        (F,     F,    NJ,   F,    NS,   F,    NS,   F,    F),
    "backstage.send":         (BF,    BF,   NJ,   BE,   BE,   BF,   BE,   BF,   BF),
    "room.leave":             (R,     R,    NJ,   R,    R,    R,    R,    R,    R),
}  # fmt: skip


# ---- the world ---------------------------------------------------------------------------
@dataclass
class Summit:
    stack: Stack
    server: ServerProcess
    event_id: int
    cookies: dict[str, dict[str, str]]

    @property
    def room(self) -> int:
        return self.stack.rooms[WORKSHOP_1]

    async def connect(self, cookies: dict[str, str], name: str) -> Client:
        return await self.stack.client(self.server, cookie_header(cookies), name)

    async def sign_in(self, identity: str, issued: dict[str, Issued]) -> dict[str, str]:
        async with httpx.AsyncClient(base_url=self.server.url, timeout=10, trust_env=False) as http:
            return await sign_in(
                http, identity, issued, origin=self.server.origin,
                headers={"X-Forwarded-For": forwarded_for()},
            )  # fmt: skip

    async def invite_moderator(self) -> Issued:
        """A moderator of workshop 1 of its own (Güldem Özdoğan's, a second invitation)."""
        async with self.stack.db.sessionmaker() as db:
            return await invite(
                db, event_id=self.event_id, role="moderator", person="guldem-ozdogan",
                now=LOBBY_OPEN_UTC - timedelta(days=1), secret=SECRET_KEY,
            )  # fmt: skip

    async def revoke_in_console(self, invitation: Issued) -> int:
        """The organizer revokes it in the console (which announces ``access.changed``)."""
        async with httpx.AsyncClient(
            base_url=self.server.url, timeout=10, trust_env=False, cookies=self.cookies["organizer"]
        ) as http:
            response = await http.post(
                f"/events/{EVENT}/console/invitations/{invitation.id}/revoke",
                headers={"Origin": self.server.origin},
            )
        return response.status_code


async def room_opened(stack: Stack, room_id: int, within: float = 10.0) -> None:
    """Wait until the server's lifecycle has opened the room's lobby."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with stack.db.sessionmaker() as db:
            state = await db.scalar(select(Room.state).where(Room.id == room_id))
        if state == "open":
            return
        assert asyncio.get_running_loop().time() < deadline, f"room {room_id} still {state}"
        await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def summit(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Summit]:
    workdir = tmp_path_factory.mktemp("command-permissions")
    shutil.copyfile(sqlite_template, workdir / "townhall.db")
    stack = Stack(
        kind="embedded",
        database_url=f"sqlite+aiosqlite:///{workdir / 'townhall.db'}",
        redis_url=None,
        workdir=workdir,
    )
    try:
        await stack.db.load()
        async with stack.db.sessionmaker() as db:
            event_id = (await programme.get_event(db, slug=EVENT)).id
            issued = await issue_invitations(
                db, event_id=event_id, now=LOBBY_OPEN_UTC - timedelta(days=1), secret=SECRET_KEY
            )
        server = stack.server("a", now=LOBBY_OPEN)
        await stack.start(server)
        made = Summit(stack, server, event_id, {})
        for identity in IDENTITIES:
            made.cookies[identity] = await made.sign_in(identity, issued)
        async with stack.db.sessionmaker() as db:
            banned = participant_of(made.cookies["banned"], SECRET_KEY)
            await spoil(db, issued=issued, banned_participant=banned, now=LOBBY_OPEN_UTC)
        await room_opened(stack, made.room)
        yield made
    finally:
        await stack.close()


# ---- outcomes ----------------------------------------------------------------------------
def outcome(answer: Message) -> str:
    if answer["type"] == "error":
        return answer["code"]
    data = answer.get("data")
    if answer["type"] == "reply" and isinstance(data, dict) and "tier" in data:
        return f"reply {data['tier']}"
    return answer["type"]


async def run_commands(summit: Summit, identity: str) -> dict[str, str]:
    """Every command, in :data:`COMMANDS` order, as ``identity``; its outcome each."""
    client = await summit.connect(summit.cookies[identity], identity)
    observed: dict[str, str] = {}
    try:
        for kind, fields in COMMANDS.items():
            room = {} if kind in NO_ROOM else {"room": summit.room}
            observed[kind] = outcome(await client.request(kind, **room, **fields))
            if observed[kind] == "participant.banned":
                observed[kind] += f", closed {await client.closed(within=5)}"
                client = await summit.connect(summit.cookies[identity], f"{identity}-again")
        observed["(connection)"] = "open" if client.is_open else f"closed {client.close_code}"
    finally:
        await client.close()
    return observed


async def participant_cookie(summit: Summit) -> str:
    """A new audience participant's cookie value."""
    header = await audience_cookie(summit.server, "Asker")
    return header.removeprefix("townhall_participant=")


async def ask(client: Client, room: int, text: str) -> int:
    """Ask (the room is premoderated: the question waits, pending); its id."""
    answer = await client.request("question.submit", room=room, text=text)
    assert answer["type"] == "reply" and answer["data"]["status"] == "pending", answer
    return answer["data"]["question"]


def submitted(question: int) -> Any:
    return lambda m: (
        m["type"] == "event" and m["name"] == "question.submitted"
        and m["data"]["question"]["id"] == question
    )  # fmt: skip


async def answer_or_close(client: Client, kind: str, within: float = 3.0, **fields: Any) -> str:
    """The outcome of a command, or how the connection ended instead of answering it."""
    try:
        return outcome(await client.request(kind, within=within, **fields))
    except (AssertionError, ConnectionClosed):
        if client.is_open:
            raise
        return f"closed {await client.closed()}"


# ---- tests -------------------------------------------------------------------------------
def test_command_table_every_command_is_classified() -> None:
    assert (sorted(COMMAND_TYPES), list(COMMANDS)) == (sorted(MATRIX), list(MATRIX)), (
        "every command of COMMAND_TYPES needs a row in MATRIX (who may send it) and a body "
        "in COMMANDS"
    )


@pytest.mark.parametrize("identity", IDENTITIES)
async def test_commands_in_workshop_1_answer_as_the_matrix_says(
    summit: Summit, identity: str
) -> None:
    column = IDENTITIES.index(identity)
    expected = {kind: row[column] for kind, row in MATRIX.items()}

    observed = await run_commands(summit, identity)

    assert observed == {**expected, "(connection)": "open"}


async def test_join_workshop_3_staff_only_for_its_moderator_and_organizers(summit: Summit) -> None:
    """The other column of the moderator of workshop 3: staff there, not in workshop 1."""
    room = summit.stack.rooms[WORKSHOP_3]
    tiers, acted = {}, None
    for identity in IDENTITIES:
        client = await summit.connect(summit.cookies[identity], f"{identity}-w3")
        tiers[identity] = outcome(await client.request("room.join", room=room))
        if identity == "moderator_w3":
            acted = outcome(
                await client.request("room.update", room=room, stage_url="https://stage.example/w3")
            )
        await client.close()

    assert (tiers, acted) == (
        {
            "anonymous": "reply audience",
            "audience": "reply audience",
            "banned": "participant.banned",
            "panelist": "reply audience",
            "moderator": "reply audience",
            "moderator_w3": "reply staff",
            "organizer": "reply staff",
            "expired": "reply audience",
            "revoked": "reply audience",
        },
        "reply",
    )


async def test_moderator_revoked_while_connected_loses_staff_rights_within_seconds(
    summit: Summit,
) -> None:
    room = summit.room
    invitation = await summit.invite_moderator()
    cookies = await summit.sign_in("moderator", {"moderator": invitation})
    moderator = await summit.connect(cookies, "revoked-moderator")
    asker = await summit.connect(
        {"townhall_participant": await participant_cookie(summit)}, "asker"
    )
    await moderator.join(room)
    await asker.join(room)
    first = await ask(asker, room, "Is this one still pending?")
    await moderator.wait_for(submitted(first))
    before = outcome(
        await moderator.request("room.update", room=room, stage_url="https://stage.example/before")
    )
    mark = len(moderator.messages)

    revoked = await summit.revoke_in_console(invitation)
    notice = await moderator.wait_for(lambda m: m["type"] == "access.changed", within=5, after=mark)
    snapshot = await moderator.wait_for(
        lambda m: m["type"] == "room.snapshot", within=5, after=moderator.messages.index(notice)
    )
    after = outcome(
        await moderator.request("room.update", room=room, stage_url="https://stage.example/after")
    )
    # A pending question asked now travels to staff (and its author) only; the public counters,
    # logged after it in the same transaction, tell when it would have arrived.
    second = await ask(asker, room, "And this one, asked after the revocation?")
    logged = (await asker.wait_for(submitted(second)))["seq"]
    await moderator.wait_for(lambda m: m["type"] == "event" and m["seq"] > logged)
    seen = [
        m["data"]["question"]["id"]
        for m in moderator.messages[moderator.messages.index(snapshot) :]
        if m["type"] == "event" and m["name"] == "question.submitted"
    ]

    assert (
        before,
        revoked,
        (notice["room"], notice["tier"], notice["identity"]["moderates"]),
        [q["id"] for q in snapshot["state"]["questions"] if q["id"] in (first, second)],
        after,
        seen,
        moderator.is_open,
    ) == ("reply", 303, (room, "audience", []), [], "room.forbidden", [], True), (
        "a revoked moderator keeps an audience seat (its participant cookie) but no staff right, "
        "and sees no pending question of anyone else, old or new"
    )
    await asyncio.gather(moderator.close(), asker.close())


async def test_moderator_revoked_while_connected_without_participant_cookie_is_closed_1008(
    summit: Summit,
) -> None:
    invitation = await summit.invite_moderator()
    cookies = await summit.sign_in("moderator", {"moderator": invitation})
    moderator = await summit.connect({"townhall_staff": cookies["townhall_staff"]}, "staff-only")
    joined = outcome(await moderator.request("room.join", room=summit.room))
    mark = len(moderator.messages)

    revoked = await summit.revoke_in_console(invitation)
    code = await moderator.closed(within=5)

    assert (
        joined,
        revoked,
        [m.get("code") for m in moderator.messages[mark:] if m["type"] == "error"],
        code,
    ) == (
        "reply staff",
        303,
        ["access.revoked"],
        1008,
    )


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", None], ids=["foreign", "null", "missing"]
)
@pytest.mark.parametrize("identity", ["moderator", "organizer"])
async def test_websocket_from_another_origin_with_staff_cookie_is_refused(
    summit: Summit, identity: str, origin: str | None
) -> None:
    client = Client(
        summit.server.ws_url, origin=origin, cookie=cookie_header(summit.cookies[identity]),
        name=f"{identity}-hijacked",
    )  # fmt: skip
    with pytest.raises(InvalidStatus) as refused:
        await client.connect()

    assert refused.value.response.status_code == 403


@pytest.mark.parametrize("victim", ["organizer", "panelist"])
async def test_participant_ban_of_an_invited_person_is_refused(summit: Summit, victim: str) -> None:
    """Invited people cannot be banned (``access.viewer_with_grants``: "staff cannot be banned by
    a moderator; revoke the invitation instead"), so a ban must not half-happen either."""
    room = summit.room
    role, person = INVITED[victim]
    async with summit.stack.db.sessionmaker() as db:
        invitation = await invite(
            db, event_id=summit.event_id, role=role, person=person,
            now=LOBBY_OPEN_UTC - timedelta(days=1), secret=SECRET_KEY,
        )  # fmt: skip
    cookies = await summit.sign_in(victim, {victim: invitation})
    target = await summit.connect(cookies, f"{victim}-target")
    moderator = await summit.connect(summit.cookies["moderator"], "banning-moderator")
    await target.join(room)
    await moderator.join(room)

    ban = await moderator.request(
        "participant.ban", room=room, participant=participant_of(cookies, SECRET_KEY)
    )
    still = await answer_or_close(target, "ping")
    again = await summit.connect(cookies, f"{victim}-again")
    rejoined = outcome(await again.request("room.join", room=room))

    assert (ban["type"], still, rejoined) == (
        "error",
        "pong",
        f"reply {'staff' if victim == 'organizer' else 'panel'}",
    ), (
        f"a moderator banned the {victim} (participant.ban answered {outcome(ban)!r}): "
        "questions.ban_participant refuses only a self-ban, and close_banned closed the "
        f"{victim}'s socket with {still!r} (clients stop for good on 4003), yet the ban does "
        "not hold: viewer_with_grants resets `banned` for anyone with an invitation, so the "
        f"{victim} rejoins as {rejoined!r}. Refuse banning invited people (or make bans hold)."
    )
    await asyncio.gather(target.close(), moderator.close(), again.close())


async def test_a_moderator_bans_only_who_joined_their_rooms_and_the_ban_holds_event_wide(
    summit: Summit,
) -> None:
    """A participant watching workshop 1 (said nothing) cannot be removed by workshop 3's
    moderator; workshop 1's moderator can, from presence alone, and the removal closes them and
    keeps them out of workshop 3 too (docs/security.md, "Removing a participant")."""
    room, other_room = summit.room, summit.stack.rooms[WORKSHOP_3]
    cookies = await summit.sign_in("audience", {})
    watcher = await summit.connect(cookies, "quiet-watcher")
    await watcher.join(room)
    participant = participant_of(cookies, SECRET_KEY)
    elsewhere = await summit.connect(summit.cookies["moderator_w3"], "workshop-3-moderator")
    here = await summit.connect(summit.cookies["moderator"], "workshop-1-moderator")
    await asyncio.gather(elsewhere.join(other_room), here.join(room))

    refused = outcome(
        await elsewhere.request("participant.ban", room=other_room, participant=participant)
    )
    still = await answer_or_close(watcher, "ping")
    banned = outcome(await here.request("participant.ban", room=room, participant=participant))
    closed = await watcher.closed()
    again = await summit.connect(cookies, "quiet-watcher-again")
    rejoined = await answer_or_close(again, "room.join", room=other_room)

    assert (refused, still, banned, closed, rejoined) == (
        "participant.ban_scope",
        "pong",
        "reply",
        4003,
        "participant.banned",
    )
    await asyncio.gather(elsewhere.close(), here.close(), again.close())
