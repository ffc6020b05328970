"""Pure helpers of ``static/js/floor.js``, run in Node.js: a turn's clock counts against the
server's time (``ends_at`` from the server), not against the viewer's clock."""

from __future__ import annotations

import json
from pathlib import Path

from support.node import run_in_node


def test_turn_clock_counts_down_to_the_servers_end_and_then_over_time(tmp_path: Path) -> None:
    turn = {"granted_at": "2021-12-08T13:00:00Z", "ends_at": "2021-12-08T13:02:00Z"}
    open_turn = {**turn, "ends_at": None}
    script = f"""
import {{ turnClockText }} from "./floor.mjs";
const turn = {json.dumps(turn)};
const at = (iso) => Date.parse(iso);
process.stdout.write(JSON.stringify([
  turnClockText(turn, at("2021-12-08T13:00:00Z")),
  turnClockText(turn, at("2021-12-08T13:01:59.400Z")),
  turnClockText(turn, at("2021-12-08T13:02:00Z")),
  turnClockText(turn, at("2021-12-08T13:03:05Z")),
  turnClockText({json.dumps(open_turn)}, at("2021-12-08T14:01:01Z")),
]));
"""
    assert run_in_node(tmp_path, script) == [
        "2:00 left",
        "0:01 left",
        "0:00 left",
        "1:05 over time",
        "1:01:01 spoken",
    ]


def test_server_clock_follows_the_pages_server_time_not_the_viewers(tmp_path: Path) -> None:
    script = """
import { serverNow, syncServerClock } from "./floor.mjs";
syncServerClock({ dataset: { serverNow: "2021-12-08T13:00:00.000Z" } });
const drift = Math.abs(serverNow() - Date.parse("2021-12-08T13:00:00.000Z"));
syncServerClock({ dataset: {} });
process.stdout.write(JSON.stringify([drift < 1000, Math.abs(serverNow() - Date.now()) < 1000]));
"""
    assert run_in_node(tmp_path, script) == [True, True]


def test_server_clock_is_set_again_by_each_hello_and_snapshot(tmp_path: Path) -> None:
    """The page's ``data-server-now`` is a start: the connection's ``hello`` and snapshots
    (``now``) set the offset afresh, so a reconnect to another process re-derives it."""
    script = """
import { serverNow, syncServerClock } from "./floor.mjs";
import { LiveConnection } from "./live.mjs";
const near = (iso) => Math.abs(serverNow() - Date.parse(iso)) < 1000;
syncServerClock({ dataset: { serverNow: "2021-12-08T13:00:00.000Z" } });
const page = near("2021-12-08T13:00:00.000Z");
const live = new LiveConnection({ url: "ws://example.invalid/ws", host: {} });
await live.onHello({ type: "hello", protocol: 1, connection: "c", identity: null,
                     now: "2021-12-08T13:20:00.000Z" });
const hello = near("2021-12-08T13:20:00.000Z");
live.rooms.set(3, { id: 3, epoch: null, seq: 0, state: null });
live.onSnapshot({ type: "room.snapshot", room: 3, epoch: "e", seq: 1, state: { room: {} },
                  now: "2021-12-08T14:00:00.000Z" });
const snapshot = near("2021-12-08T14:00:00.000Z");
live.stop();
process.stdout.write(JSON.stringify([page, hello, snapshot]));
"""
    assert run_in_node(tmp_path, script) == [True, True, True]
