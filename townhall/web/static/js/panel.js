// The panelists' view: the question on air in large type, the questions put to this panelist
// (asked of them or assigned to them by a moderator), then the audience's top questions.

import { LiveConnection } from "./live.js";
import {
  applyEvent,
  connectionBanner,
  createAnnouncer,
  el,
  onAirQuestion,
  openQuestions,
  questionBody,
  questionsFor,
  questionsFromSnapshot,
} from "./qa.js";

const TOP = 10;
const root = document.getElementById("panel");
const $ = (id) => document.getElementById(id);
const config = {
  roomId: Number(root.dataset.roomId),
  wsUrl: root.dataset.wsUrl,
  personKey: root.dataset.personKey || null,
};

function list(target, empty, questions) {
  $(target).replaceChildren(...questions.map((q) => el("li", { class: "qa-card" }, questionBody(q))));
  $(empty).hidden = questions.length > 0;
}

function render(state) {
  const onAir = onAirQuestion(state);
  $("onair").replaceChildren(onAir ? questionBody(onAir, { large: true }) : el("p", { class: "qa-empty" }, "No question is on air."));
  const mine = questionsFor(state, config.personKey).filter((q) => q.id !== state.on_air);
  list("mine", "mine-empty", mine);
  const shown = new Set([state.on_air, ...mine.map((q) => q.id)]);
  list("top", "top-empty", openQuestions(state).filter((q) => !shown.has(q.id)).slice(0, TOP));
}

let state = null;
const live = new LiveConnection({ url: config.wsUrl, reducer: applyEvent });
const announce = createAnnouncer($("announce-polite"), $("announce-assertive"));
live.on("state", connectionBanner($("connection-status")));
live.on("snapshot", ({ room, state: snapshot }) => {
  if (room !== config.roomId) return;
  state = questionsFromSnapshot(snapshot);
  render(state);
});
live.on("event", ({ room, state: next }) => {
  if (room !== config.roomId) return;
  const previous = state;
  state = next;
  render(state);
  announce(previous, state);
});
live.start();
live.join(config.roomId).catch((error) => {
  $("connection-status").textContent = `Could not join the room: ${error.message}`;
});
