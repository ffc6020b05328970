// The live room page: joins the room through live.js and keeps the server-rendered page in
// step with the room's events, presence and the connection's state. The Q&A panel is
// room_qa.js's; this module hands it each connection and the identity the join form got.

import {
  clockTime,
  errorMessage,
  formatNumber,
  longDay,
  roomStateDetail,
  roomStateLabel,
  t,
  tn,
  viewerSpan,
} from "./labels.js";
import { nowSpeakingView, startClocks, syncServerClock } from "./floor.js";
import { LiveConnection } from "./live.js";
import { $, connectionBanner, joinFailed, queueNotice } from "./page.js";
import { applyEvent } from "./qa.js";
import { AudienceQa } from "./room_qa.js";

const root = document.getElementById("room");
const config = {
  roomId: Number(root.dataset.roomId),
  eventSlug: root.dataset.eventSlug,
  wsUrl: root.dataset.wsUrl,
  timeZone: root.dataset.timezone,
  zoneLabel: root.dataset.zoneLabel,
  zones: JSON.parse(root.dataset.zones || "[]"),
  joined: root.dataset.joined === "true",
};

const qa = new AudienceQa($("qa"), {
  roomId: config.roomId,
  politeRegion: $("qa-announce-polite"),
  assertiveRegion: $("qa-announce-assertive"),
  onJoinWanted: () => {
    // A visitor wants to vote: the name comes first.
    $("join-form").scrollIntoView({ block: "center" });
    $("join-name").focus({ preventScroll: true });
    $("join-error").textContent = t("Join the room to vote: a name is optional.");
  },
});

function stateDetail(room) {
  return roomStateDetail(room, config.timeZone, config.zoneLabel);
}

function element(tag, attributes = {}, text = "") {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text) node.textContent = text;
  return node;
}

function renderStage(room) {
  const stage = $("room-stage");
  const links = [];
  if (room.stage_url) links.push([room.stage_url, t("Join the stage")]);
  if (room.stream_url) links.push([room.stream_url, t("Watch the stream")]);
  let content;
  if ((room.state === "open" || room.state === "live") && links.length) {
    content = element("ul", { class: "stage-links" });
    for (const [href, text] of links) {
      const item = element("li");
      // A new tab: the Q&A stays open beside the call or the stream.
      item.append(element("a", { class: "stage-link", href, target: "_blank", rel: "noopener noreferrer" }, text));
      content.append(item);
    }
  } else if (room.state === "ended" || room.state === "archived") {
    content = element("p", {}, t("The session has ended."));
  } else if (room.state === "scheduled") {
    content = element("p", {}, t("The stage link appears when the room opens."));
  } else {
    content = element("p", {}, t("The stage link appears here as soon as the moderators share it."));
  }
  stage.replaceChildren(content);
}

function renderWhen(session) {
  const day = $("room-day");
  const zones = $("room-zones");
  if (!session.starts_at || !session.ends_at) {
    day.textContent = t("Time to be announced");
    zones.replaceChildren();
    return;
  }
  const time = element("time", { datetime: session.starts_at }, longDay(session.starts_at, config.timeZone));
  day.replaceChildren(time);
  const line = (label, span) => {
    const item = element("li");
    item.append(element("span", { class: "zone-label" }, label), ` ${span}`);
    return item;
  };
  const yours = viewerSpan(session.starts_at, session.ends_at, config.timeZone);
  zones.replaceChildren(
    ...config.zones.map((zone) =>
      line(zone.label, `${clockTime(session.starts_at, zone.zone)}–${clockTime(session.ends_at, zone.zone)}`),
    ),
    ...(yours ? [line(t("Your time"), yours)] : []),
  );
}

function renderRoom(room) {
  root.dataset.state = room.state;
  $("room-title").textContent = room.session.title;
  const state = $("room-state");
  state.className = `room-state room-state-${room.state}`;
  $("room-state-label").textContent = roomStateLabel(room.state);
  $("room-state-detail").textContent = stateDetail(room);
  renderWhen(room.session);
  renderStage(room);
}

function renderPresence(message) {
  $("room-presence").hidden = false;
  $("presence-audience").textContent = formatNumber(message.audience);
  $("presence-audience-noun").textContent = tn("person in the audience", "people in the audience", message.audience);
  for (const [role, id] of [["moderator", "presence-moderators"], ["panelist", "presence-panelists"]]) {
    const names = message.people.filter((p) => p.role === role).map((p) => p.name || t("Someone"));
    const line = $(id);
    line.hidden = names.length === 0;
    line.querySelector(".presence-names").textContent = names.join(", ");
  }
}

// ---- the floor: who speaks, for how long, who is next (floor.js) -------------------------

syncServerClock(root);

function renderFloor(floor) {
  const show = Boolean(floor && (floor.speaking || floor.queue.length));
  $("room-floor").hidden = !show;
  $("floor-now").replaceChildren(...(show ? nowSpeakingView(floor) : []));
}

function followFloor(live) {
  live.on("snapshot", ({ room, state }) => room === config.roomId && renderFloor(state.floor));
  live.on("event", ({ room, event, state }) => {
    if (room === config.roomId && event.name.startsWith("floor.")) renderFloor(state.floor);
  });
  startClocks(root);
}

// ---- the connection banner -------------------------------------------------------------

const banner = $("connection-status");
const showConnection = connectionBanner(banner);

function say(kind, text) {
  banner.dataset.connection = kind;
  banner.textContent = text;
}

function onState(change) {
  // A resume's "caught up" message follows on its own: "live" does not overwrite it.
  if (change.state === "live" && banner.dataset.connection === "caughtup") return;
  showConnection(change);
}

function onCaughtUp({ missed, snapshot, offlineFor }) {
  if (offlineFor === null) return; // a quiet repair while connected: nothing to tell
  if (snapshot) {
    say("caughtup", t("You were offline — caught up (the room was reloaded)."));
    return;
  }
  say("caughtup", tn("You were offline — caught up ({count} missed update).", "You were offline — caught up ({count} missed updates).", missed));
}

// ---- joining ---------------------------------------------------------------------------

let current = null; // the live connection: a visitor's until the person joins

/** Follow the room; `visitor`: without a name yet (read-only until they join). */
function connect({ visitor = false } = {}) {
  current?.stop(t("joined the room"));
  qa.setVisitor(visitor);
  const live = new LiveConnection({ url: config.wsUrl, reducer: applyEvent });
  live.on("state", onState);
  live.on("caughtup", onCaughtUp);
  queueNotice(live, banner);
  live.on("snapshot", ({ room, state }) => room === config.roomId && renderRoom(state.room));
  live.on("event", ({ room, event, state }) => {
    if (room === config.roomId && !event.name.startsWith("question.")) renderRoom(state.room);
  });
  qa.attach(live);
  followFloor(live);
  live.on("presence", (message) => message.room === config.roomId && renderPresence(message));
  live.start();
  current = live;
  live.join(config.roomId).then(
    (data) => {
      root.dataset.tier = data.tier;
      root.dataset.visitor = String(visitor);
    },
    (error) => {
      if (error.code === "auth.required") {
        // The cookie names a participant the server no longer knows: join afresh.
        live.stop(t("join the event first"));
        say("idle", "");
        qa.setVisitor(true);
        showJoinForm();
      } else {
        say("error", joinFailed(error));
      }
    },
  );
  return live;
}

let joinFormReady = false;

function showJoinForm() {
  const form = $("join-form");
  form.hidden = false;
  if (joinFormReady) return;
  joinFormReady = true;
  form.addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const button = form.querySelector("button");
    const name = $("join-name").value.trim();
    button.disabled = true;
    $("join-error").textContent = "";
    try {
      const response = await fetch(`/api/events/${encodeURIComponent(config.eventSlug)}/participants`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(name ? { display_name: name } : {}),
      });
      const body = await response.json().catch(() => ({}));
      if (!response.ok) {
        throw Object.assign(new Error(body.error?.message ?? t("the server answered {status}", { status: response.status })), {
          code: body.error?.code,
        });
      }
      qa.setIdentity({ participant: body.participant ?? null, displayName: body.display_name ?? null });
      form.hidden = true;
      connect();
    } catch (error) {
      $("join-error").textContent = t("Could not join: {reason}", { reason: errorMessage(error) });
    } finally {
      button.disabled = false;
    }
  });
}

renderWhen({ starts_at: root.dataset.startsAt || null, ends_at: root.dataset.endsAt || null });
if (config.joined) connect();
else {
  // Read the questions at once; a name is asked for only to ask or vote.
  showJoinForm();
  connect({ visitor: true });
}
