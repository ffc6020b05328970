// The benchmark's peer: what a team would pick instead of Townhall's live core. Node
// socket.io over WebSocket only, with @socket.io/redis-adapter so a broadcast made on one
// process reaches the sockets of another through Redis pub/sub, as Townhall's does.
//
//   PORT=… REDIS_URL=redis://127.0.0.1:6379/0 PREFIX=bench-… node server.js
//
// Clients emit "join" (room, ack) to enter a room; a moderator emits "action" (room, payload)
// on any process and every socket in the room, on every process, receives "action" payload.
// GET /healthz answers {"ok", "connections", "gc_pause_max_ms"} (the longest garbage
// collection pause seen, from perf_hooks), like Townhall's /healthz.
"use strict";

const http = require("node:http");
const { PerformanceObserver } = require("node:perf_hooks");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

let gcPauseMaxMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauseMaxMs = Math.max(gcPauseMaxMs, entry.duration);
}).observe({ entryTypes: ["gc"] });

async function main() {
  const port = Number(process.env.PORT);
  const redisUrl = process.env.REDIS_URL || "redis://127.0.0.1:6379/0";
  const prefix = process.env.PREFIX || "bench-peer";

  const server = http.createServer((request, response) => {
    if (request.url === "/healthz") {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          ok: true,
          connections: io.engine.clientsCount,
          gc_pause_max_ms: gcPauseMaxMs,
        }),
      );
      return;
    }
    response.writeHead(404);
    response.end();
  });
  const io = new Server(server, {
    transports: ["websocket"],
    serveClient: false,
    perMessageDeflate: false,
  });
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(createAdapter(pub, sub, { key: prefix }));

  io.on("connection", (socket) => {
    socket.on("join", (room, ack) => {
      socket.join(String(room));
      if (typeof ack === "function") ack({ room });
    });
    socket.on("action", (room, payload) => {
      io.to(String(room)).emit("action", payload);
    });
  });
  server.listen(port, "127.0.0.1", () => console.log(`peer listening on ${port}`));
  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => process.exit(0));
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
