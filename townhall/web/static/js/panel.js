// The panelists' view, a mayor's cockpit on a phone: where the session stands (state, times in
// their zone and the event's, a countdown to the start, the video call), what to do next, the
// floor (who speaks, for how long; ask for it, withdraw, yield), the question on air, the
// questions put to them, backstage messages with the moderators, then the audience's top
// questions. Floor and backstage commands are docs/protocol.md's; their views are floor.js's.

import { clockTime, errorMessage, roomStateDetail, roomStateLabel, t, viewerSpan } from "./labels.js";
import { backstageBySentAt } from "./live.js";
import { formatSpan, nowSpeakingView, onTick, serverNow, startClocks, syncServerClock } from "./floor.js";
import { $, followRoom } from "./page.js";
import { createAnnouncer, el, onAirQuestion, openQuestions, questionBody, questionsFor } from "./qa.js";

const TOP = 10;
const root = $("panel");
syncServerClock(root);
const config = {
  roomId: Number(root.dataset.roomId),
  wsUrl: root.dataset.wsUrl,
  personKey: root.dataset.personKey || null,
  timeZone: root.dataset.timezone,
  zoneLabel: root.dataset.zoneLabel,
};

let live = null;
let state = null;
let myRequest = null; // the id of this panelist's request in the queue
const myRequests = new Set(); // every request made by or for this panelist, to know their turn

function list(target, empty, questions) {
  $(target).replaceChildren(...questions.map((q) => el("li", { class: "qa-card" }, questionBody(q))));
  $(empty).hidden = questions.length > 0;
}

function isMine(request) {
  return Boolean(request) && (myRequests.has(request.id) || (config.personKey !== null && request.person === config.personKey));
}

/** Follow the queue: a request made for us (by a moderator, or on another device) is ours too. */
function trackMyRequest(floor) {
  const queue = floor?.queue ?? [];
  const found = queue.find((r) => r.id === myRequest) ?? queue.find(isMine);
  myRequest = found ? found.id : null;
  if (found) myRequests.add(found.id);
}

// ---- where the session stands ------------------------------------------------------------

function renderWhere(room) {
  $("room-state").className = `room-state room-state-${room.state}`;
  $("room-state-label").textContent = roomStateLabel(room.state);
  $("room-state-detail").textContent = roomStateDetail(room, config.timeZone, config.zoneLabel);
  const stage = $("stage");
  if (room.stage_url && room.state !== "ended" && room.state !== "archived") {
    // A new tab: the cockpit stays open beside the call.
    stage.replaceChildren(
      el("a", { class: "cockpit-stage-link", href: room.stage_url, target: "_blank", rel: "noopener noreferrer" }, t("Join the video call")),
    );
  } else if (room.state === "ended" || room.state === "archived") {
    stage.replaceChildren(el("p", {}, t("The session has ended.")));
  } else {
    stage.replaceChildren(el("p", {}, t("The video call link appears here as soon as the moderators share it.")));
  }
  const span = viewerSpan(room.session.starts_at, room.session.ends_at, config.timeZone);
  $("viewer-time").hidden = span === null;
  $("viewer-span").textContent = span ?? "";
  renderCountdown();
}

function renderCountdown() {
  const box = $("start-countdown");
  const room = state?.room;
  const startsAt = room?.session.starts_at ? Date.parse(room.session.starts_at) : null;
  const waiting = startsAt !== null && (room.state === "scheduled" || room.state === "open");
  const left = waiting ? (startsAt - serverNow()) / 1000 : null;
  box.hidden = left === null || left <= 0;
  if (!box.hidden) box.textContent = t("The session starts in {time}.", { time: formatSpan(Math.ceil(left)) });
}

function nextStep() {
  const room = state.room;
  const floor = state.floor ?? { queue: [], speaking: null };
  if (room.state === "ended" || room.state === "archived") return t("The session has ended. Thank you for taking part.");
  if (isMine(floor.speaking)) return t("You have the floor. When you have finished, press “Yield the floor”.");
  if (myRequest !== null) {
    const position = floor.queue.findIndex((r) => r.id === myRequest) + 1;
    return t("You are number {position} on the list of speakers: stay on the video call.", { position });
  }
  if (room.state === "scheduled" || room.state === "open") {
    return room.stage_url
      ? t("Join the video call now and wait there for the moderator.")
      : t("Keep this page open: the video call link will appear here.");
  }
  const onAir = onAirQuestion(state);
  if (onAir && config.personKey && (onAir.to?.key === config.personKey || onAir.assigned_to?.key === config.personKey)) {
    return t("The question on air is for you: answer when the moderator gives you the floor.");
  }
  return t("Follow the questions below, and ask for the floor when you want to speak.");
}

/** Our seat was filled (`room.people_changed`): the page names us as the programme now does. */
function renderOwnName(people) {
  const mine = config.personKey && (people ?? []).find((person) => person.key === config.personKey);
  const shown = $("panel-person-name");
  if (mine && shown) shown.textContent = mine.name;
}

// ---- the floor ---------------------------------------------------------------------------

function renderFloor() {
  const floor = state.floor ?? { queue: [], speaking: null };
  $("floor-now").replaceChildren(...nowSpeakingView(floor, { nextCount: 3 }));
  const speakingMine = isMine(floor.speaking);
  const roomOpen = state.room.state === "open" || state.room.state === "live";
  const mine = $("floor-mine");
  mine.hidden = myRequest === null;
  if (myRequest !== null) {
    const position = floor.queue.findIndex((r) => r.id === myRequest) + 1;
    mine.textContent = t("Your request: number {position} on the list.", { position });
  }
  for (const b of root.querySelectorAll("[data-floor-request]")) {
    b.hidden = myRequest !== null || speakingMine || !roomOpen;
    b.disabled = b.dataset.floorRequest === "reply" && !floor.speaking;
  }
  $("floor-withdraw").hidden = myRequest === null;
  $("floor-yield").hidden = !speakingMine;
}

// ---- backstage ---------------------------------------------------------------------------

function backstageItem(message) {
  const from = message.from.role === "moderator" ? t("{name} (moderator)", { name: message.from.name }) : message.from.name;
  return el(
    "li",
    { class: `backstage-message${message.to ? " is-private" : ""}`, "data-message": message.id },
    el(
      "p",
      { class: "backstage-meta" },
      el("span", { dir: "auto" }, from),
      " · ",
      el("time", { datetime: message.sent_at }, clockTime(message.sent_at)),
      message.to ? [" · ", el("span", { class: "backstage-to-you" }, t("to you only"))] : null,
    ),
    el("p", { class: "backstage-text", dir: "auto" }, message.text),
    message.question ? el("blockquote", { class: "backstage-question", dir: "auto" }, message.question.text) : null,
  );
}

function renderBackstage() {
  // Newest first: on a phone the latest message is the one that matters.
  const messages = backstageBySentAt(state.backstage ?? []).reverse();
  $("backstage-list").replaceChildren(...messages.map(backstageItem));
  $("backstage-empty").hidden = messages.length > 0;
}

// ---- everything --------------------------------------------------------------------------

function render() {
  renderWhere(state.room);
  renderFloor();
  $("next-step").textContent = nextStep();
  const onAir = onAirQuestion(state);
  $("onair").replaceChildren(
    onAir ? questionBody(onAir, { large: true }) : el("p", { class: "qa-empty" }, t("No question is on air.")),
  );
  const mine = questionsFor(state, config.personKey).filter((q) => q.id !== state.on_air);
  list("mine", "mine-empty", mine);
  const shown = new Set([state.on_air, ...mine.map((q) => q.id)]);
  list("top", "top-empty", openQuestions(state).filter((q) => !shown.has(q.id)).slice(0, TOP));
  renderBackstage();
}

function showError(id, error) {
  const box = $(id);
  box.hidden = error === null;
  box.textContent = error === null ? "" : errorMessage(error);
  const fresh = error?.details?.floor;
  if (fresh && typeof fresh === "object" && state) {
    // A refusal carries the floor as it now is: show that.
    state = { ...state, floor: fresh };
    const room = live?.rooms.get(config.roomId);
    if (room?.state) room.state = state;
    trackMyRequest(fresh);
    render();
  }
}

async function floorCommand(command) {
  try {
    const reply = await live.send({ room: config.roomId, ...command });
    showError("floor-error", null);
    return reply ?? {};
  } catch (error) {
    showError("floor-error", error);
    return null;
  }
}

function wire() {
  $("floor-actions").addEventListener("click", async (event) => {
    const b = event.target.closest("button");
    if (!b || b.disabled) return;
    if (b.dataset.floorRequest) {
      const reply = await floorCommand({ type: "floor.request", kind: b.dataset.floorRequest });
      if (reply?.request) {
        myRequest = reply.request;
        myRequests.add(reply.request);
      }
    } else if (b.id === "floor-withdraw" && myRequest !== null) {
      if (await floorCommand({ type: "floor.withdraw", request: myRequest })) myRequest = null;
    } else if (b.id === "floor-yield") {
      await floorCommand({ type: "floor.end_turn" });
    }
    if (state) render();
  });
  $("backstage-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("backstage-text");
    try {
      await live.send({ room: config.roomId, type: "backstage.send", text: text.value });
      text.value = "";
      showError("backstage-error", null);
    } catch (error) {
      showError("backstage-error", error);
    }
  });
}

const announce = createAnnouncer($("announce-polite"), $("announce-assertive"));
wire();
live = followRoom({
  roomId: config.roomId,
  wsUrl: config.wsUrl,
  banner: $("connection-status"),
  onUpdate(next, { previous, event }) {
    state = next;
    if (!event) {
      myRequest = next.my_floor_request ?? null;
      if (myRequest !== null) myRequests.add(myRequest);
    }
    if (event?.name === "room.people_changed") renderOwnName(next.people);
    trackMyRequest(next.floor);
    render();
    announce(previous, next);
  },
});
onTick(renderCountdown);
startClocks(root);
