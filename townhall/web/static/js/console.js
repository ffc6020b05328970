// The organizer console's overview: one live connection joins every room of the event
// (organizers are staff in every room) and keeps the table current: each room's state, its
// audience, its pending questions and who of the staff and panel is present.

import { errorMessage, formatNumber, roomStateLabel, t } from "./labels.js";
import { LiveConnection } from "./live.js";
import { connectionBanner } from "./page.js";
import { applyEvent, questionsFromSnapshot, withStatus } from "./qa.js";

const ROLE_LABELS = { moderator: () => t("moderator"), panelist: () => t("panelist") };

const table = document.getElementById("live-overview");
const status = document.getElementById("connection-status");

function field(row, name) {
  return row.querySelector(`[data-field="${name}"]`);
}

/** Set a cell's text, and mark it briefly when the value really changed. */
function update(element, text) {
  if (!element || element.textContent === text) return;
  const first = element.textContent === "–";
  element.textContent = text;
  if (first) return;
  element.classList.remove("changed");
  void element.offsetWidth; // restart the highlight
  element.classList.add("changed");
}

function renderRoom(row, state) {
  const room = state.room;
  if (room) {
    const badge = field(row, "state");
    update(badge, roomStateLabel(room.state));
    badge.className = `state-badge state-${room.state}`;
  }
  const pending = withStatus(state, "pending").length;
  update(field(row, "pending"), formatNumber(pending));
  row.dataset.pending = String(pending);
}

function renderPresence(row, message, me) {
  update(field(row, "audience"), formatNumber(message.audience ?? 0));
  const people = (message.people ?? []).filter((p) => !me || p.participant !== me);
  const cell = field(row, "people");
  const text = people.length
    ? people.map((p) => `${p.name || t("Someone")} (${ROLE_LABELS[p.role]?.() ?? p.role})`).join(", ")
    : t("Nobody yet");
  update(cell, text);
}

function start() {
  const me = table.dataset.me;
  const rows = new Map([...table.tBodies[0].rows].map((row) => [Number(row.dataset.roomId), row]));
  const connection = new LiveConnection({ url: table.dataset.wsUrl, reducer: applyEvent });

  connection.on("state", connectionBanner(status));
  connection.on("snapshot", ({ room, state }) => {
    const row = rows.get(room);
    if (row) renderRoom(row, questionsFromSnapshot(state));
  });
  connection.on("event", ({ room, state }) => {
    const row = rows.get(room);
    if (row) renderRoom(row, state);
  });
  connection.on("presence", (message) => {
    const row = rows.get(message.room);
    if (row) renderPresence(row, message, me);
  });

  connection.start();
  for (const [roomId, row] of rows) {
    connection.join(roomId, { listed: false }).catch((error) => {
      field(row, "people").textContent = t("Not available: {reason}", { reason: errorMessage(error) });
    });
  }
}

if (table) start();
else if (status) status.textContent = "";
