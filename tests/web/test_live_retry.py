"""live.js keeps a command the server refused as ``unavailable`` (a database outage) and sends it
again with the same ref after ``retry_after``, across a reconnect; run in Node against a
scripted socket (the server side of the same outage is tests/realtime/test_outage.py)."""

from __future__ import annotations

from pathlib import Path

from support.node import run_in_node

HARNESS = """
import { LiveConnection } from "./live.mjs";
const sockets = [];
class ScriptedSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 1;
    this.sent = [];
    sockets.push(this);
    setTimeout(() => this.server({ type: "hello", protocol: 1 }), 0);
  }
  send(data) { this.sent.push(JSON.parse(data)); }
  close() { this.readyState = 3; }
  server(message) { this.onmessage?.({ data: JSON.stringify(message) }); }
  last(type) { return this.sent.filter((m) => m.type === type).at(-1); }
}
async function until(test, what, within = 20000) {
  const start = Date.now();
  while (!test()) {
    if (Date.now() - start > within) throw new Error(`waited ${within} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
async function connected(options = {}) {
  const live = new LiveConnection({
    url: "ws://townhall.test/ws", WebSocketImpl: ScriptedSocket,
    host: { location: { protocol: "http:", host: "townhall.test" } }, ...options,
  });
  const queue = [];
  live.on("queue", ({ queued }) => queue.push(queued));
  live.start();
  await until(() => live.state === "live", "live");
  return { live, queue, socket: sockets[0] };
}
const outcome = (promise) =>
  promise.then((data) => ({ ok: data }), (error) => ({ error: error.code }));
const unavailable = (socket, ref, seconds) =>
  socket.server({ type: "error", ref, code: "unavailable", message: "", retry_after: seconds });
const count = (socket, type) => socket.sent.filter((m) => m.type === type).length;
"""


def test_a_command_refused_as_unavailable_is_sent_again_with_its_ref(tmp_path: Path) -> None:
    script = (
        HARNESS
        + """
const { live, queue, socket } = await connected();
const sent = outcome(live.send({ type: "question.submit", room: 1, text: "Flood plan?" }));
const first = socket.last("question.submit");
const refusedAt = Date.now();
unavailable(socket, first.ref, 1);
await until(() => count(socket, "question.submit") === 2, "the resend");
const waited = Date.now() - refusedAt;
const again = socket.last("question.submit");
socket.server({ type: "reply", ref: again.ref, data: { question: 7 } });
const result = await sent;
live.stop();
process.stdout.write(JSON.stringify({
  sameRef: again.ref === first.ref, sameText: again.text === first.text,
  waitedAtLeast800ms: waited >= 800, result, queue,
}));
process.exit(0);
"""
    )
    assert run_in_node(tmp_path, script) == {
        "sameRef": True,
        "sameText": True,
        "waitedAtLeast800ms": True,
        "result": {"ok": {"question": 7}},
        "queue": [1, 0],
    }


def test_a_queued_command_survives_a_reconnect_and_others_fail_as_before(tmp_path: Path) -> None:
    script = (
        HARNESS
        + """
const { live, queue, socket } = await connected();
const queued = outcome(live.send({ type: "question.vote", room: 1, question: 3 }));
const inFlight = outcome(live.send({ type: "question.unvote", room: 1, question: 4 }));
const refused = outcome(live.send({ type: "question.vote", room: 1, question: 5 }));
const [vote, unvote, other] = socket.sent.slice(-3);
unavailable(socket, vote.ref, 30);
socket.server({ type: "error", ref: other.ref, code: "question.not_found", message: "gone" });
socket.onclose({ code: 1006, reason: "" });
await until(() => sockets.length === 2 && live.state === "live", "the reconnect");
await until(() => sockets[1].last("question.vote"), "the queued vote, resent on reconnect", 5000);
const again = sockets[1].last("question.vote");
sockets[1].server({ type: "reply", ref: again.ref, data: { votes: 1 } });
const results = { queued: await queued, inFlight: await inFlight, refused: await refused };
live.stop();
process.stdout.write(JSON.stringify({
  sameRef: again.ref === vote.ref, resentUnvote: Boolean(sockets[1].last("question.unvote")),
  results, queue,
}));
process.exit(0);
"""
    )
    assert run_in_node(tmp_path, script) == {
        "sameRef": True,
        "resentUnvote": False,  # its outcome is unknown: the page is told, not guessed for
        "results": {
            "queued": {"ok": {"votes": 1}},
            "inFlight": {"error": "connection.lost"},
            "refused": {"error": "question.not_found"},
        },
        "queue": [1, 0],
    }


def test_a_command_still_refused_after_the_retry_window_fails(tmp_path: Path) -> None:
    script = (
        HARNESS
        + """
const { live, queue, socket } = await connected({ retryWindowMs: 500 });
const sent = outcome(live.send({ type: "question.submit", room: 1, text: "Anyone?" }));
const first = socket.last("question.submit");
await new Promise((resolve) => setTimeout(resolve, 600));
unavailable(socket, first.ref, 1);
const result = await sent;
live.stop();
process.stdout.write(JSON.stringify({ result, queue, sends: count(socket, "question.submit") }));
process.exit(0);
"""
    )
    assert run_in_node(tmp_path, script) == {
        "result": {"error": "unavailable"},
        "queue": [],
        "sends": 1,
    }
