// The one live connection every live page shares: GET /ws, typed commands with promised
// replies, rooms kept in seq order, resume after a drop, and honest connection states.
// docs/protocol.md is the contract this module implements.

export const PROTOCOL = 1;

import { t } from "./labels.js";

// Close codes (townhall/realtime/messages.py).
export const CLOSE = Object.freeze({
  GOING_AWAY: 1001, // server restarting: reconnect soon, another process takes over
  POLICY: 1008, // junk, forbidden origin, revoked access: do not hammer
  UNAUTHENTICATED: 4001, // no identity: the page must get a participant cookie first
  BANNED: 4003, // removed from the event: stop
  TOO_SLOW: 4008, // fell behind: reconnect and resume
});

// Connection states a page may show.
export const STATES = Object.freeze(["connecting", "live", "reconnecting", "offline", "stopped"]);

const RETRY_BASE_MS = 500;
const RETRY_CAP_MS = 15_000;
const POLICY_RETRY_MS = 5 * 60_000; // after a 1008: come back much later, not at once
const PING_EVERY_MS = 25_000;
const PING_TIMEOUT_MS = 10_000;
const REPLY_TIMEOUT_MS = 15_000;
const HELLO_TIMEOUT_MS = 10_000; // a handshake that hangs (a dead network) is given up
// A command refused as `unavailable` (the database is briefly away) is kept and sent again,
// with the same ref, after the server's `retry_after`, for up to this long from its first send.
const RETRY_WINDOW_MS = 120_000;

/** Full-jitter exponential backoff: a random delay in [0, min(cap, base·2^attempt)). */
export function backoffDelay(attempt, { base = RETRY_BASE_MS, cap = RETRY_CAP_MS, random = Math.random } = {}) {
  return Math.floor(random() * Math.min(cap, base * 2 ** Math.max(0, attempt)));
}

// ---- the server's clock ----------------------------------------------------------------
// A turn's countdown runs against the server's event clock, not the viewer's: `hello` (every
// connection and reconnection) and every `room.snapshot` carry the server's `now`, and the
// offset is set afresh from each, so a phone's wrong clock, a rehearsal's shifted event clock or
// a reconnect to another server process moves no countdown. Pages start from `data-server-now`.
let clockOffsetMs = 0;

/** Take the server's time `iso` (as of now, on this device) as the clock serverNow() follows. */
export function setServerNow(iso, localNow = Date.now()) {
  const at = Date.parse(iso ?? "");
  if (!Number.isNaN(at)) clockOffsetMs = at - localNow;
  return !Number.isNaN(at);
}

/** The server's time now, in milliseconds since the epoch. */
export function serverNow() {
  return Date.now() + clockOffsetMs;
}

function isoShift(iso, deltaMs) {
  return new Date(Date.parse(iso) + deltaMs).toISOString().replace(".000Z", "Z");
}

/**
 * The room's state after one event, without touching the old state (a pure reducer).
 * Modules for other features (Q&A …) handle their own names and fall back to this one;
 * unknown names leave the state as it was.
 */
export function applyRoomEvent(state, event) {
  switch (event.name) {
    case "room.state_changed":
    case "room.updated":
      // A delta: the room object's fields that changed.
      return { ...state, room: { ...state.room, ...event.data.changes } };
    case "room.schedule_changed": {
      const room = state.room;
      if (!room) return state;
      const { starts_at: startsAt, ends_at: endsAt } = event.data;
      let opensAt = null;
      if (startsAt && room.opens_at && room.session.starts_at) {
        // Keep the room's lead time: it opens as long before the new start as before the old.
        const lead = Date.parse(room.session.starts_at) - Date.parse(room.opens_at);
        opensAt = isoShift(startsAt, -lead);
      }
      return {
        ...state,
        room: {
          ...room,
          opens_at: opensAt,
          session: { ...room.session, starts_at: startsAt, ends_at: endsAt },
        },
      };
    }
    case "room.people_changed":
      return withPeople(state, event.data.people);
    case "floor.airtime_changed":
      return { ...state, floor_airtime: event.data.airtime };
    case "backstage.sent":
      return { ...state, backstage: withBackstageMessage(state.backstage ?? [], event.data.message) };
    default:
      // Every other floor event carries the whole public floor: it replaces ours.
      if (event.name.startsWith("floor.") && event.data?.floor) return withFloor(state, event.data.floor);
      return state;
  }
}

/**
 * The room's people (`room.people_changed`: a seat was filled) in place of ours, and the names
 * questions carry for them (`to`, `assigned_to`) with them: "Mayor of Paris" becomes its mayor.
 */
export function withPeople(state, people) {
  const byKey = new Map(people.map((person) => [person.key, person]));
  const named = (ref) => {
    const person = ref && byKey.get(ref.key);
    return person ? { ...ref, name: person.credit, city: person.city } : ref;
  };
  const next = { ...state, people };
  if (state.questions) next.questions = state.questions.map((q) => ({ ...q, to: named(q.to), assigned_to: named(q.assigned_to) }));
  return next;
}

/**
 * The floor an event carries, in place of ours. A panelist's own request (`my_floor_request`,
 * from their snapshot or their `floor.request` reply) is theirs only while it is queued: once
 * it is granted, removed, withdrawn or closed — on any device, by anyone — it is gone.
 */
function withFloor(state, floor) {
  const next = { ...state, floor };
  const mine = state.my_floor_request;
  if (mine != null && !(floor.queue ?? []).some((request) => request.id === mine)) next.my_floor_request = null;
  return next;
}

// The server keeps the latest 200 backstage messages in a snapshot; so does the client.
const BACKSTAGE_KEPT = 200;

/** Backstage messages in the order they were sent (ids are random: `sent_at`, then `id`). */
export function backstageBySentAt(messages) {
  return [...messages].sort((a, b) => a.sent_at.localeCompare(b.sent_at) || a.id.localeCompare(b.id));
}

/** One `backstage.sent` message merged in by id (the same message may come twice). */
export function withBackstageMessage(messages, message) {
  const merged = new Map(messages.map((m) => [m.id, m]));
  merged.set(message.id, message);
  return backstageBySentAt([...merged.values()]).slice(-BACKSTAGE_KEPT);
}

/** An `error` message from the server (or a local failure) as a rejectable Error. */
/**
 * A snapshot's `mine` (the viewer's own questions and votes, sent apart so that the shared
 * `state` is encoded once for everyone) laid over its `state`: lists of items with an `id`
 * are merged by id, anything else replaced.
 */
export function layOwn(state, mine) {
  if (!mine) return state;
  const merged = { ...state };
  for (const [key, value] of Object.entries(mine)) {
    const byId = Array.isArray(value) && value.every((item) => item !== null && typeof item === "object");
    if (byId) {
      const items = new Map((state[key] ?? []).map((item) => [item.id, item]));
      for (const item of value) items.set(item.id, item);
      merged[key] = [...items.values()].sort((a, b) => a.id - b.id);
    } else {
      merged[key] = value;
    }
  }
  return merged;
}

export class LiveError extends Error {
  constructor(code, message, details = {}) {
    super(message);
    this.name = "LiveError";
    this.code = code;
    this.details = details;
  }
}

const FATAL_REASONS = {
  [CLOSE.UNAUTHENTICATED]: () => t("Join the event first."),
  [CLOSE.BANNED]: () => t("You have been removed from this event."),
  [CLOSE.POLICY]: () => t("The server refused this connection."),
};

export class LiveConnection {
  /**
   * @param {object} options
   * @param {string} [options.url] ws(s)://host/ws; by default the page's own host.
   * @param {Function} [options.reducer] (state, event) => state, default applyRoomEvent.
   */
  constructor({
    url,
    reducer = applyRoomEvent,
    WebSocketImpl = globalThis.WebSocket,
    host = globalThis,
    pingEveryMs = PING_EVERY_MS,
    pingTimeoutMs = PING_TIMEOUT_MS,
    replyTimeoutMs = REPLY_TIMEOUT_MS,
    helloTimeoutMs = HELLO_TIMEOUT_MS,
    retryWindowMs = RETRY_WINDOW_MS,
  } = {}) {
    this.url = url || LiveConnection.defaultUrl(host.location);
    this.reducer = reducer;
    this.WebSocketImpl = WebSocketImpl;
    this.host = host;
    this.pingEveryMs = pingEveryMs;
    this.pingTimeoutMs = pingTimeoutMs;
    this.replyTimeoutMs = replyTimeoutMs;
    this.helloTimeoutMs = helloTimeoutMs;
    this.retryWindowMs = retryWindowMs;

    this.state = "connecting";
    this.detail = {};
    this.ws = null;
    this.helloSeen = false; // commands may be sent only after the server's hello
    this.rooms = new Map(); // room id -> {epoch, seq, state, tier, joining, resuming}
    this.pending = new Map(); // ref -> {resolve, reject, timer, message, since, queued}
    this.listeners = new Map();
    this.nextRef = 1;
    // Refs are unique per page load: the server treats a repeated question ref as a retry.
    this.refPrefix = Array.from(crypto.getRandomValues(new Uint8Array(4)), (byte) =>
      byte.toString(16).padStart(2, "0"),
    ).join("");
    this.attempt = 0;
    this.everLive = false;
    this.started = false;
    this.retryTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.helloTimer = null;
    this.offlineSince = null;
    this.queuedBefore = 0;

    this.onOnline = () => this.reconnectNow("online");
    this.onOffline = () => this.goOffline();
    this.onVisibility = () => {
      if (this.host.document?.visibilityState !== "visible") return;
      if (this.state === "live") this.checkAlive();
      else this.reconnectNow("visible");
    };
  }

  static defaultUrl(location) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}/ws`;
  }

  // ---- subscriptions -----------------------------------------------------------------

  /**
   * Subscribe to 'state', 'event', 'snapshot', 'presence', 'caughtup', 'access', 'error' (errors
   * no command is waiting for) or 'hello'. Returns a function that unsubscribes.
   */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type)?.delete(fn);
  }

  emit(type, payload) {
    for (const fn of this.listeners.get(type) ?? []) {
      try {
        fn(payload);
      } catch (error) {
        console.error(`live: a '${type}' listener failed`, error);
      }
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------

  start() {
    if (this.started) return this;
    this.started = true;
    this.host.addEventListener?.("online", this.onOnline);
    this.host.addEventListener?.("offline", this.onOffline);
    this.host.document?.addEventListener("visibilitychange", this.onVisibility);
    this.connect();
    return this;
  }

  stop(reason = "stopped") {
    this.started = false;
    this.host.removeEventListener?.("online", this.onOnline);
    this.host.removeEventListener?.("offline", this.onOffline);
    this.host.document?.removeEventListener("visibilitychange", this.onVisibility);
    this.dropSocket(1000, reason);
    clearTimeout(this.retryTimer);
    this.setState("stopped", { reason });
  }

  /**
   * Keep `roomId` joined across reconnects. Resolves with the first join's reply data, or
   * rejects with the server's refusal (a lost connection just means the next attempt joins).
   * `listed: false` (staff only) watches without appearing in the room's presence.
   */
  join(roomId, { listed = true } = {}) {
    if (!this.rooms.has(roomId)) {
      this.rooms.set(roomId, { id: roomId, epoch: null, seq: 0, state: null, tier: null, listed });
    }
    const settled = new Promise((resolve, reject) => {
      const off = this.on("joined", (result) => {
        if (result.room !== roomId || result.error?.code?.startsWith("connection.")) return;
        off();
        if (result.error) reject(result.error);
        else resolve(result.data);
      });
    });
    if (this.ws && this.helloSeen) this.joinRoom(this.rooms.get(roomId)).catch(() => {});
    return settled;
  }

  async leave(roomId) {
    this.rooms.delete(roomId);
    if (this.state === "live") await this.send({ type: "room.leave", room: roomId });
  }

  room(roomId) {
    return this.rooms.get(roomId)?.state ?? null;
  }

  // ---- commands ----------------------------------------------------------------------

  /**
   * Send a command; resolves with the matching `reply` (or `pong`), rejects on its `error`.
   * A refusal as `unavailable` does not reject: the command is queued and sent again with the
   * same ref (the server treats a repeated ref as a retry) after the server's `retry_after`,
   * across reconnects, for up to `retryWindowMs`; 'queue' events tell how many wait.
   */
  send(command) {
    if (!this.ws || this.ws.readyState !== 1 || !this.helloSeen) {
      return Promise.reject(new LiveError("connection.offline", t("Not connected; try again shortly.")));
    }
    const ref = command.ref ?? `${this.refPrefix}-${this.nextRef++}`;
    const message = { ...command, ref };
    return new Promise((resolve, reject) => {
      this.pending.set(ref, { resolve, reject, timer: null, message, since: Date.now(), queued: false });
      this.transmit(ref);
    });
  }

  transmit(ref) {
    const waiting = this.pending.get(ref);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    waiting.queued = false;
    waiting.timer = setTimeout(() => {
      this.pending.delete(ref);
      waiting.reject(new LiveError("connection.timeout", t("The server did not answer in time.")));
      this.emitQueue();
    }, this.replyTimeoutMs);
    this.ws.send(JSON.stringify(waiting.message));
  }

  /** Keep a command the server could not run now; false when its retry window is over. */
  requeue(ref, retryAfter) {
    const waiting = this.pending.get(ref);
    if (!waiting || Date.now() - waiting.since > this.retryWindowMs) return false;
    clearTimeout(waiting.timer);
    waiting.queued = true;
    const seconds = Math.min(30, Math.max(1, Number(retryAfter) || 2));
    waiting.timer = setTimeout(() => this.resend(ref), seconds * 1000 * (0.8 + Math.random() * 0.4));
    this.emitQueue();
    return true;
  }

  /** Send a queued command again now, or leave it for the next time the connection is live. */
  resend(ref) {
    const waiting = this.pending.get(ref);
    if (!waiting) return;
    waiting.timer = null;
    if (Date.now() - waiting.since > this.retryWindowMs) {
      this.settle(ref, "reject", new LiveError("unavailable", t("The service is unavailable; try again later.")));
    } else if (this.ws && this.ws.readyState === 1 && this.helloSeen) {
      this.transmit(ref);
    }
    this.emitQueue();
  }

  resendQueued() {
    for (const [ref, waiting] of [...this.pending]) {
      if (waiting.queued && waiting.timer === null) this.resend(ref);
    }
  }

  emitQueue() {
    const queued = [...this.pending.values()].filter((waiting) => waiting.queued).length;
    if (queued === this.queuedBefore) return;
    this.queuedBefore = queued;
    this.emit("queue", { queued });
  }

  settle(ref, outcome, value) {
    const waiting = this.pending.get(ref);
    if (!waiting) return false;
    this.pending.delete(ref);
    clearTimeout(waiting.timer);
    waiting[outcome](value);
    if (waiting.queued || this.queuedBefore) this.emitQueue();
    return true;
  }

  /** The connection is gone: what was in flight fails; what is queued waits for the next. */
  failPending(code, message) {
    for (const [ref, waiting] of [...this.pending]) {
      if (waiting.queued) {
        clearTimeout(waiting.timer);
        waiting.timer = null;
      } else {
        this.settle(ref, "reject", new LiveError(code, message));
      }
    }
  }

  // ---- the socket --------------------------------------------------------------------

  setState(state, detail = {}) {
    const previous = this.state;
    this.state = state;
    this.detail = detail;
    this.emit("state", { state, previous, ...detail });
  }

  connect() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.dropSocket(1000, "replaced");
    this.setState(this.everLive ? "reconnecting" : "connecting", { attempt: this.attempt });
    this.helloSeen = false;
    let ws;
    try {
      ws = new this.WebSocketImpl(this.url);
    } catch (error) {
      this.scheduleRetry({ reason: String(error) });
      return;
    }
    this.ws = ws;
    this.helloTimer = setTimeout(() => {
      if (ws !== this.ws || this.helloSeen) return;
      this.dropSocket(1000, "no hello");
      this.markOffline();
      this.scheduleRetry({ reason: t("the server did not answer") });
    }, this.helloTimeoutMs);
    ws.onmessage = (message) => {
      if (ws === this.ws) this.receive(message.data);
    };
    ws.onclose = (close) => {
      if (ws === this.ws) this.closed(close.code, close.reason);
    };
    ws.onerror = () => {}; // a close event always follows; it carries what we can know
  }

  /** Forget the current socket (its late events are ignored) and close it. */
  dropSocket(code = 1000, reason = "") {
    const ws = this.ws;
    this.ws = null;
    this.helloSeen = false;
    clearTimeout(this.pingTimer);
    clearTimeout(this.pongTimer);
    clearTimeout(this.helloTimer);
    if (ws) {
      ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(code, reason.slice(0, 120));
      } catch {
        // already closed
      }
      this.failPending("connection.lost", t("The connection was lost."));
    }
  }

  closed(code, reason) {
    this.dropSocket();
    if (!this.started) return;
    this.markOffline();
    if (code === CLOSE.BANNED || code === CLOSE.UNAUTHENTICATED) {
      this.started = false;
      this.setState("stopped", { code, reason: FATAL_REASONS[code]?.(), serverReason: reason });
      return;
    }
    if (code === CLOSE.POLICY) {
      this.scheduleRetry({ code, reason: reason || FATAL_REASONS[code]?.() }, POLICY_RETRY_MS);
      return;
    }
    if (code === CLOSE.TOO_SLOW || code === CLOSE.GOING_AWAY) {
      // Expected and not the network's fault: come back soon, spread out by jitter.
      this.attempt = 0;
    }
    this.scheduleRetry({ code, reason });
  }

  markOffline() {
    if (this.everLive && this.offlineSince === null) this.offlineSince = Date.now();
  }

  scheduleRetry(detail = {}, delay = null) {
    clearTimeout(this.retryTimer);
    const offline = this.host.navigator?.onLine === false;
    const wait = delay ?? (offline ? RETRY_CAP_MS : backoffDelay(this.attempt));
    this.attempt += 1;
    this.setState(offline ? "offline" : "reconnecting", { ...detail, retryIn: wait });
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }

  /** The network is back or the page is visible again: do not wait out the backoff. */
  reconnectNow(why) {
    if (!this.started || this.state === "live" || this.state === "stopped") return;
    if (this.detail.code === CLOSE.POLICY) return; // the long wait after 1008 stands
    if (this.ws && !this.helloSeen) return; // a connection attempt is already under way
    this.attempt = 0;
    this.connect();
  }

  goOffline() {
    if (!this.started || this.state === "stopped") return;
    // The browser knows the network is gone; the socket may not notice for minutes.
    this.dropSocket(1000, "offline");
    this.markOffline();
    this.scheduleRetry({ reason: "offline" });
  }

  // ---- keep-alive: browsers cannot see WebSocket pings, so ask the server ------------

  schedulePing() {
    clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => this.checkAlive(), this.pingEveryMs);
  }

  checkAlive() {
    const ws = this.ws;
    if (!ws || !this.helloSeen) return;
    clearTimeout(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pongTimer = setTimeout(() => {
      if (ws !== this.ws) return;
      this.dropSocket(1000, "ping timeout");
      this.markOffline();
      this.scheduleRetry({ reason: t("no answer from the server") });
    }, this.pingTimeoutMs);
    this.send({ type: "ping" }).then(
      () => {
        if (ws !== this.ws) return;
        clearTimeout(this.pongTimer);
        this.schedulePing();
      },
      () => {}, // the pong timer or the close handler deals with it
    );
  }

  // ---- inbound -----------------------------------------------------------------------

  receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      console.warn("live: undecodable frame", data);
      return;
    }
    switch (message.type) {
      case "hello":
        return this.onHello(message);
      case "reply":
        return this.settle(message.ref, "resolve", message.data);
      case "pong":
        return this.settle(message.ref, "resolve", message);
      case "error":
        return this.onError(message);
      case "room.snapshot":
        return this.onSnapshot(message);
      case "room.resumed":
        return this.onResumed(message);
      case "event":
        return this.onEvent(message);
      case "presence":
        return this.emit("presence", message);
      case "access.changed":
        // A new role in the room; the server follows with a snapshot for it.
        if (this.rooms.has(message.room)) this.rooms.get(message.room).tier = message.tier;
        return this.emit("access", message);
      default:
        console.warn("live: unknown message type", message.type);
    }
  }

  async onHello(message) {
    if (message.protocol !== PROTOCOL) {
      console.warn(`live: server speaks protocol ${message.protocol}, this page ${PROTOCOL}`);
    }
    this.helloSeen = true;
    clearTimeout(this.helloTimer);
    setServerNow(message.now);
    this.emit("hello", message);
    const ws = this.ws;
    const joins = [...this.rooms.values()].map((room) => this.joinRoom(room).catch(() => {}));
    await Promise.all(joins);
    if (ws !== this.ws) return; // dropped while joining
    this.attempt = 0;
    this.everLive = true;
    this.offlineSince = null;
    this.setState("live");
    this.schedulePing();
    this.resendQueued();
  }

  /** (Re)join one room, resuming from the last event applied when there is one. */
  async joinRoom(room) {
    const since = room.epoch ? { epoch: room.epoch, seq: room.seq } : null;
    const wasOfflineFor = this.offlineSince === null ? null : Date.now() - this.offlineSince;
    room.joining = true;
    room.resuming = null;
    room.snapshotReason = null;
    try {
      const command = { type: "room.join", room: room.id, since };
      if (room.listed === false) command.presence = false;
      const data = await this.send(command);
      room.tier = data.tier;
      if (room.resuming) {
        // Every missed event came before this reply: from here on, only live ones.
        room.seq = Math.max(room.seq, room.resuming.seq);
      }
      if (since) {
        this.emit("caughtup", {
          room: room.id,
          missed: room.resuming ? room.resuming.missed : null,
          snapshot: room.resuming ? null : room.snapshotReason || "reloaded",
          offlineFor: wasOfflineFor,
        });
      }
      room.resuming = null;
      this.emit("joined", { room: room.id, data });
      return data;
    } catch (error) {
      this.emit("joined", { room: room.id, error });
      if (error.code === "room.not_found") this.rooms.delete(room.id);
      throw error;
    } finally {
      room.joining = false;
    }
  }

  onError(message) {
    if (message.code === "unavailable" && message.ref != null && this.requeue(message.ref, message.retry_after)) {
      return;
    }
    const error = new LiveError(message.code, message.message, message);
    if (message.ref != null && this.settle(message.ref, "reject", error)) return;
    this.emit("error", error);
  }

  onSnapshot(message) {
    const room = this.rooms.get(message.room);
    if (!room) return;
    setServerNow(message.now);
    room.epoch = message.epoch;
    room.seq = message.seq;
    room.state = layOwn(message.state, message.mine);
    room.snapshotReason = message.reason ?? null;
    this.emit("snapshot", { room: room.id, state: room.state, reason: message.reason ?? null });
  }

  onResumed(message) {
    const room = this.rooms.get(message.room);
    if (!room) return;
    room.resuming = { from: message.from, seq: message.seq, missed: message.missed };
  }

  onEvent(message) {
    const room = this.rooms.get(message.room);
    if (!room || room.state === null) return;
    if (message.epoch !== room.epoch) {
      // The room's log was reset; rejoining with the old epoch gets a fresh snapshot.
      this.rejoin(room);
      return;
    }
    if (message.seq <= room.seq) return; // already applied
    // Audience and panel sockets are not sent every event (staff-only ones are skipped),
    // so a jump is normal for them. Staff see everything: a jump there is a real gap.
    if (message.seq > room.seq + 1 && room.tier === "staff" && !room.resuming) {
      this.rejoin(room);
      return;
    }
    room.seq = message.seq;
    room.state = this.reducer(room.state, message);
    this.emit("event", { room: room.id, event: message, state: room.state });
  }

  rejoin(room) {
    if (room.joining || this.state !== "live") return;
    this.joinRoom(room).catch((error) => console.warn("live: rejoin failed", error));
  }
}
