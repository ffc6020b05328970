// The big screen (venue screen or stream overlay): the question on air in large type, the
// five most-voted open questions, and the join link with its QR code (drawn by the server).
// It joins the room as an audience participant, so it sees exactly what the audience sees.

import { LiveConnection } from "./live.js";
import {
  applyEvent,
  authorLabel,
  createAnnouncer,
  el,
  onAirQuestion,
  personLabel,
  questionsFromSnapshot,
  topQuestions,
  votesLabel,
} from "./qa.js";

const TOP = 5;
const root = document.getElementById("screen");
const $ = (id) => document.getElementById(id);
const config = { roomId: Number(root.dataset.roomId), wsUrl: root.dataset.wsUrl };

function byLine(q) {
  const parts = [q.anonymous ? "Asked anonymously" : `Asked by ${authorLabel(q)}`];
  if (q.to) parts.push(`to ${personLabel(q.to)}`);
  return parts.join(" ");
}

function render(state) {
  const q = onAirQuestion(state);
  $("onair").replaceChildren(
    ...(q
      ? [el("p", { class: "qa-screen-question" }, q.text), el("p", { class: "qa-screen-by" }, byLine(q))]
      : [el("p", { class: "qa-screen-waiting" }, "The next question appears here.")]),
  );
  root.dataset.onAir = q ? "yes" : "no";
  $("top").replaceChildren(
    ...topQuestions(state, TOP).map((item) =>
      el(
        "li",
        { class: "qa-screen-item" },
        el("span", { class: "qa-screen-votes" }, votesLabel(item.votes)),
        el("span", { class: "qa-screen-item-text" }, item.text),
      ),
    ),
  );
}

let state = null;
const live = new LiveConnection({ url: config.wsUrl, reducer: applyEvent });
const announce = createAnnouncer($("announce-polite"), $("announce-assertive"));
const status = $("connection-status");
live.on("state", ({ state: connection }) => {
  // Quiet when live: the overlay shows only a problem.
  status.dataset.connection = connection;
  status.textContent = connection === "live" ? "" : connection === "stopped" ? "Disconnected" : "Reconnecting…";
});
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
  status.textContent = `Could not join the room: ${error.message}`;
});
