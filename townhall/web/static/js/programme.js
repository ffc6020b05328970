// Programme pages: each session's time in the viewer's own zone, and live-status labels that
// stay current. Progressive: the server-rendered page is complete without this module.
//
// The server writes, on [data-programme]: its clock (data-now, so a rehearsal clock holds
// here too), the "opens soon" window (data-soon-minutes), the status labels and the
// programme API's address; on each [data-session]: data-start/data-end (UTC), data-day
// (the session's date in the event's home zone) and data-room-state when it has a room.
// statusAt() is townhall/web/programme_view.py's live_status(): keep the two in step.

import { clockTime, longDay, t, tn, utcOffset } from "./labels.js";

const REFRESH_MS = 30_000;
const ROOM_POLL_MS = 60_000;
const DAY_MS = 86_400_000;

/** The status a visitor sees; a room's own state wins over the clock when it has one. */
export function statusAt({ start, end, roomState }, now, soonMinutes) {
  if (roomState === "open" || roomState === "live") return roomState;
  if (roomState === "ended" || roomState === "archived") return "ended";
  if (start === null || end === null) return "tba";
  if (now >= end) return "ended";
  if (now >= start) return roomState ? "opens_soon" : "live";
  if (now >= start - soonMinutes * 60_000) return "opens_soon";
  return "upcoming";
}

/** "2021-12-08": the calendar date of an instant in a time zone. */
export function localDate(instant, timeZone) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(instant);
  const value = (type) => parts.find((part) => part.type === type).value;
  return `${value("year")}-${value("month")}-${value("day")}`;
}

/** Whole days from the ISO date `from` to the ISO date `to`. */
export function daysBetween(from, to) {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** "+1 day", "-1 day", "+2 days", or "" when the dates agree (in the page's language). */
export function dayMarker(offset) {
  if (offset === 0) return "";
  const sign = offset > 0 ? "+" : "-";
  return `${sign}${tn("{count} day", "{count} days", Math.abs(offset))}`;
}

/** "Berlin" from "Europe/Berlin"; "" for UTC itself, which needs no city. */
export function zoneCity(timeZone) {
  if (/^(Etc\/)?(UTC|GMT|UCT|Universal|Zulu)$/.test(timeZone)) return "";
  return timeZone.split("/").pop().replaceAll("_", " ");
}

/** "(Berlin, UTC+1)", or "(UTC)" for UTC. */
export function zoneDescription(instant, timeZone) {
  const city = zoneCity(timeZone);
  const offset = utcOffset(instant, timeZone);
  return city ? `(${city}, ${offset})` : `(${offset})`;
}

function viewerZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

function parseInstant(value) {
  if (!value) return null;
  const time = Date.parse(value);
  return Number.isNaN(time) ? null : time;
}

function showViewerTime(card, timeZone) {
  const row = card.querySelector("[data-viewer-time]");
  if (!row) return;
  const startEl = row.querySelector("time[data-start]");
  const endEl = row.querySelector("time[data-end]");
  const start = new Date(startEl.dateTime);
  const end = new Date(endEl.dateTime);
  // 24-hour, as the server writes the reference zones' rows above it.
  startEl.textContent = clockTime(start, timeZone);
  endEl.textContent = clockTime(end, timeZone);
  row.querySelector("[data-viewer-label]").textContent = t("Your time");
  const zone = row.querySelector("[data-viewer-zone]");
  zone.textContent = zoneDescription(start, timeZone);
  zone.title = timeZone;

  const marker = row.querySelector("[data-viewer-marker]");
  const offset = daysBetween(card.dataset.day, localDate(start, timeZone));
  marker.textContent = dayMarker(offset);
  if (offset) marker.title = longDay(start, timeZone);
  else marker.removeAttribute("title");
  marker.hidden = offset === 0;
}

function labelsOf(root) {
  try {
    return JSON.parse(root.dataset.statusLabels || "{}");
  } catch {
    return {};
  }
}

function refreshStatus(card, now, soonMinutes, labels) {
  const status = statusAt(
    {
      start: parseInstant(card.dataset.start),
      end: parseInstant(card.dataset.end),
      roomState: card.dataset.roomState || "",
    },
    now,
    soonMinutes,
  );
  if (status === card.dataset.status || !(status in labels)) return;
  card.dataset.status = status;
  const badge = card.querySelector("[data-status-badge]");
  if (!badge) return;
  badge.className = `status status-${status}`;
  badge.querySelector("[data-status-text]").textContent = labels[status];
}

async function pollRoomStates(root, cards) {
  if (document.visibilityState === "hidden" || !root.dataset.programmeUrl) return;
  try {
    const response = await fetch(root.dataset.programmeUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const body = await response.json();
    const states = new Map(body.sessions.map((s) => [s.slug, s.room_state || ""]));
    for (const card of cards) {
      if (states.has(card.dataset.session)) card.dataset.roomState = states.get(card.dataset.session);
    }
  } catch {
    // Offline or the server restarting: the clock keeps the labels going until the next poll.
  }
}

function start() {
  const root = document.querySelector("[data-programme]");
  if (!root) return;
  const cards = [...root.querySelectorAll("[data-session]")];
  const timeZone = viewerZone();
  for (const card of cards) showViewerTime(card, timeZone);
  const note = root.querySelector("[data-viewer-note]");
  if (note) note.textContent = t("your own time zone {zone}", { zone: zoneDescription(new Date(), timeZone) });

  // The server's clock may be a rehearsal clock: run ours at the same distance from it.
  const skew = (parseInstant(root.dataset.now) ?? Date.now()) - Date.now();
  const soonMinutes = Number(root.dataset.soonMinutes || 60);
  const labels = labelsOf(root);
  const tick = () => {
    for (const card of cards) refreshStatus(card, Date.now() + skew, soonMinutes, labels);
  };
  tick();
  setInterval(tick, REFRESH_MS);
  setInterval(() => pollRoomStates(root, cards).then(tick), ROOM_POLL_MS);
}

if (typeof document !== "undefined") {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}
