"""``TOWNHALL_LOG_FORMAT=json`` on a real server: every line it writes is one JSON object with
time, level, logger and message; a request's lines carry its request id, a WebSocket's its
connection id; invitation tokens and question text never appear."""

from __future__ import annotations

import json

import httpx
from support.stack import Stack
from support.summit import MORNING, MORNING_UTC, WORKSHOP_1

TOKEN = "SeCrEtInViTaTiOnToKeN0123456789"
QUESTION = "Quelle est la zxqv question secrète des maires ?"


async def test_json_logs_one_object_per_line(embedded: Stack) -> None:
    server = embedded.server(
        "a",
        now=MORNING,
        settings={
            "TOWNHALL_LOG_FORMAT": "json",
            "TOWNHALL_LOG_LEVEL": "debug",  # what is quiet at debug is quiet at info
            "TOWNHALL_WS_JUNK_LIMIT": "3",
        },
    )
    await embedded.start(server)
    room = embedded.rooms[WORKSHOP_1]
    await embedded.db.set_room_state(room, "go_live", now=MORNING_UTC)  # questions open
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0, trust_env=False) as http:
        given = await http.get(f"/invitations/{TOKEN}", headers={"X-Request-ID": "req-42"})
        made = await http.get("/livez", headers={"X-Request-ID": "not sane!"})
    asker = await embedded.audience(server, "Asker")
    assert (await asker.join(room))["type"] == "room.snapshot"
    answer = await asker.request("question.submit", room=room, text=QUESTION)
    assert answer["type"] == "reply", answer
    junk = await embedded.audience(server, "Junk")
    assert junk.hello is not None
    for _ in range(3):
        await junk.send("{not json")
    assert await junk.closed(within=10) == 1008
    await server.stop(within=30)

    lines = [line for line in server.log().splitlines() if not line.startswith("---- start")]
    records = [json.loads(line) for line in lines]  # fails on any line that is not JSON

    assert given.headers["X-Request-ID"] == "req-42"
    assert len(made.headers["X-Request-ID"]) == 16
    assert [r for r in records if not {"time", "level", "logger", "message"} <= r.keys()] == []
    assert {r["process"] for r in records} == {"a"}
    [invitation] = [r for r in records if r.get("request_id") == "req-42"]
    assert (invitation["logger"], invitation["method"], invitation["path"]) == (
        "uvicorn.access",
        "GET",
        "/invitations/[redacted]",
    )
    [closing] = [r for r in records if "too many invalid messages" in r["message"]]
    assert (closing["level"], closing["logger"], closing["connection_id"]) == (
        "info",
        "townhall.realtime.endpoint",
        junk.hello["connection"],
    )
    text = server.log()
    assert (TOKEN in text, "zxqv" in text, asker.cookie.split("=", 1)[1] in text) == (
        False,
        False,
        False,
    )
    assert [r for r in records if "exception" in r or "Traceback" in r["message"]] == []
