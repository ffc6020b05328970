"""What ``/ws`` refuses, and how: malformed and oversized frames, junk floods, foreign origins,
missing identities and missing rights each get a typed error or a refusal, and the server (and,
where documented, the connection) stays usable.

One PostgreSQL + Redis server serves the whole module; every test uses connections of its own.
"""

from __future__ import annotations

import json
from unittest.mock import ANY

import pytest
from support.clients import Client, audience_cookie
from support.servers import ServerProcess
from support.stack import Stack
from support.summit import WORKSHOP_1
from websockets.exceptions import InvalidStatus

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def error(code: str, ref: object = None, **details: object) -> dict[str, object]:
    return {"type": "error", "ref": ref, "code": code, "message": ANY, **details}


@pytest.fixture
async def audience(shared_production: tuple[Stack, ServerProcess]) -> Client:
    made, server = shared_production
    return await made.audience(server, "Refused Rita")


async def assert_usable(client: Client, server: ServerProcess) -> None:
    """The connection still answers a ping, and the server its health check."""
    assert await client.request("ping", within=30) == {"type": "pong", "ref": ANY}
    assert (await server.health())["ok"] is True


async def test_message_not_json_is_malformed(audience: Client, shared_production) -> None:
    await audience.send("{this is not json")
    assert await audience.recv_until(lambda m: m["type"] == "error") == error("message.malformed")
    await assert_usable(audience, shared_production[1])


async def test_message_json_array_is_malformed(audience: Client, shared_production) -> None:
    await audience.send(json.dumps([{"type": "ping", "ref": "inside"}]))
    assert await audience.recv_until(lambda m: m["type"] == "error") == error("message.malformed")
    await assert_usable(audience, shared_production[1])


async def test_message_unknown_type_echoes_ref(audience: Client, shared_production) -> None:
    await audience.send({"type": "room.explode", "ref": "r-unknown", "room": 1})
    assert await audience.recv_until(lambda m: m["type"] == "error") == error(
        "message.unknown_type", "r-unknown"
    )
    await assert_usable(audience, shared_production[1])


async def test_message_missing_field_is_invalid(audience: Client, shared_production) -> None:
    await audience.send({"type": "room.join", "ref": 17})
    assert await audience.recv_until(lambda m: m["type"] == "error") == error("message.invalid", 17)
    await assert_usable(audience, shared_production[1])


async def test_message_unknown_field_is_invalid(audience: Client, shared_production) -> None:
    await audience.send({"type": "ping", "ref": "r-extra", "shout": True})
    assert await audience.recv_until(lambda m: m["type"] == "error") == error(
        "message.invalid", "r-extra"
    )
    await assert_usable(audience, shared_production[1])


async def test_message_over_64_kib_is_too_large_and_connection_stays(
    audience: Client, shared_production
) -> None:
    padding = "x" * (64 * 1024)
    await audience.send({"type": "ping", "ref": "big", "padding": padding})
    assert await audience.recv_until(lambda m: m["type"] == "error") == error("message.too_large")
    await assert_usable(audience, shared_production[1])


async def test_junk_five_within_ten_seconds_closes_with_1008(
    audience: Client, shared_production
) -> None:
    for n in range(5):
        await audience.send(f"junk {n}")
    code = await audience.closed(within=5)
    errors = audience.of_type("error")
    assert (code, [e["code"] for e in errors]) == (1008, ["message.malformed"] * 5)
    assert (await shared_production[1].health())["ok"] is True


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "null", None], ids=["foreign", "null", "missing"]
)
async def test_origin_not_allowed_refuses_upgrade_with_403(
    origin: str | None, shared_production: tuple[Stack, ServerProcess]
) -> None:
    _, server = shared_production
    client = Client(server.ws_url, origin=origin, cookie=await audience_cookie(server, "Mallory"))
    with pytest.raises(InvalidStatus) as refused:
        await client.connect()
    assert refused.value.response.status_code == 403
    assert (await server.health())["ok"] is True


async def test_join_without_cookie_is_a_visitor_asking_gets_auth_required(
    shared_production,
) -> None:
    made, server = shared_production
    room = made.rooms[WORKSHOP_1]
    anonymous = await made.client(server, None, "anonymous")
    assert anonymous.hello == {
        "type": "hello",
        "protocol": 1,
        "connection": ANY,
        "identity": {"events": []},
        "now": ANY,
    }
    joined = await anonymous.join(room)
    answer = await anonymous.request("question.submit", room=room, text="Without a name?")
    assert (joined["type"], answer) == ("room.snapshot", error("auth.required", ANY, event=ANY))
    await assert_usable(anonymous, server)


async def test_audience_set_state_is_forbidden(audience: Client, shared_production) -> None:
    made, server = shared_production
    room = made.rooms[WORKSHOP_1]
    assert (await audience.join(room))["type"] == "room.snapshot"
    answer = await audience.request("room.set_state", room=room, action="go_live")
    assert answer == error("room.forbidden", ANY)
    await assert_usable(audience, server)


async def test_commands_before_joining_are_not_joined(shared_production) -> None:
    made, server = shared_production
    room = made.rooms[WORKSHOP_1]
    moderator = await made.moderator(server, "Early Moderator")
    answers = [
        await moderator.request("room.set_state", room=room, action="go_live"),
        await moderator.request("room.update", room=room, stage_url="https://stage.example/x"),
        await moderator.request("room.leave", room=room),
    ]
    assert answers == [error("room.not_joined", ANY)] * 3
    await assert_usable(moderator, server)


@pytest.mark.parametrize(
    "command",
    [
        {"type": "room.join", "room": 2**31},
        {"type": "room.join", "room": 1, "since": {"epoch": "e", "seq": 2**63}},
        {"type": "question.vote", "room": 1, "question": 2**64 + 1},
        {"type": "question.merge", "room": 1, "question": 1, "into": -(2**40)},
        {"type": "question.pin", "room": 1, "question": 1, "position": 2**70},
    ],
    ids=["room", "seq", "question", "into", "position"],
)
async def test_ids_beyond_32_bits_are_invalid(
    command: dict[str, object], audience: Client, shared_production
) -> None:
    await audience.send({**command, "ref": "r-huge"})
    assert await audience.recv_until(lambda m: m["type"] == "error") == error(
        "message.invalid", "r-huge"
    )
    await assert_usable(audience, shared_production[1])


async def test_json_nested_a_thousand_deep_is_malformed(
    audience: Client, shared_production
) -> None:
    frame = '{"type": "ping", "ref": "deep", "x": ' + "[" * 1000 + "]" * 1000 + "}"
    await audience.send(frame)
    assert len(frame) < 2100
    assert await audience.recv_until(lambda m: m["type"] == "error") == error("message.malformed")
    await assert_usable(audience, shared_production[1])
