// The floor on every screen: who is speaking, for how long, and who is next. Panel, console,
// audience room and big screen show the same words from here. A turn's countdown runs
// against the server's clock: the page carries the server's time when it was made
// (`data-server-now`), and live.js takes it again from every `hello` and snapshot, so a wrong
// clock on a phone, an event clock set for a rehearsal, or a reconnect to another server
// process does not move the end of a turn. The turn's end (`ends_at`) comes from the server.

import { t } from "./labels.js";
import { serverNow, setServerNow } from "./live.js";
import { el, personLabel } from "./qa.js";

export { serverNow };

/** Read the server's time from the page (`data-server-now` on `root`) until the connection brings it. */
export function syncServerClock(root) {
  if (!setServerNow(root?.dataset.serverNow)) setServerNow(new Date().toISOString());
}

export function floorKindLabel(kind) {
  return (
    {
      contribution: t("Contribution"),
      reply: t("Reply"),
      point_of_order: t("Point of order"),
    }[kind] ?? kind
  );
}

/** "4:05", "1:02:03"; a negative span (over time) as "+0:12". */
export function formatSpan(seconds) {
  const over = seconds < 0;
  let rest = Math.abs(Math.round(seconds));
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  const secs = String(rest - minutes * 60).padStart(2, "0");
  const text = hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
  return over ? `+${text}` : text;
}

/** Seconds left in the turn (negative: over time), or null when it has no limit. */
export function secondsLeft(turn, now = serverNow()) {
  if (!turn?.ends_at) return null;
  return (Date.parse(turn.ends_at) - now) / 1000;
}

/** What a turn's clock says: the time left, or the time spoken when there is no limit. */
export function turnClockText(turn, now = serverNow()) {
  const left = secondsLeft(turn, now);
  if (left === null) return t("{time} spoken", { time: formatSpan((now - Date.parse(turn.granted_at)) / 1000) });
  return left >= 0 ? t("{time} left", { time: formatSpan(Math.ceil(left)) }) : t("{time} over time", { time: formatSpan(Math.floor(-left)) });
}

/** A speaker as every screen names them: "Sameh Wahba, Washington". */
export function speakerLabel(request) {
  return personLabel({ name: request.name, city: request.city });
}

/** The clock element of a turn; `tickClocks` keeps its text current. */
export function turnClock(turn, attributes = {}) {
  const clock = el(
    "span",
    { class: "floor-clock", "data-floor-clock": "", "data-ends-at": turn.ends_at, "data-granted-at": turn.granted_at, ...attributes },
    turnClockText(turn),
  );
  markOverTime(clock, turn);
  return clock;
}

function markOverTime(clock, turn) {
  const left = secondsLeft(turn);
  clock.dataset.state = left === null ? "open" : left < 0 ? "over" : left <= 30 ? "ending" : "running";
}

/** Refresh every turn clock on the page (one timer per page, whatever it shows). */
export function tickClocks(root = document) {
  for (const clock of root.querySelectorAll("[data-floor-clock]")) {
    const turn = { ends_at: clock.dataset.endsAt || null, granted_at: clock.dataset.grantedAt };
    clock.textContent = turnClockText(turn);
    markOverTime(clock, turn);
  }
}

let ticking = null;
const tickers = new Set();

/** Call `fn` every second with the clocks (a page's other countdowns share the one timer). */
export function onTick(fn) {
  tickers.add(fn);
}

/** Start the page's one clock timer (idempotent). */
export function startClocks(root = document) {
  if (ticking !== null) return;
  ticking = setInterval(() => {
    tickClocks(root);
    for (const fn of tickers) fn();
  }, 1000);
}

/** "Now speaking: Sameh Wahba, Washington · 2:41 left" and "Next: …", or that nobody is. */
export function nowSpeakingView(floor, { nextCount = 1 } = {}) {
  const turn = floor?.speaking ?? null;
  const queue = floor?.queue ?? [];
  const parts = [];
  if (turn) {
    parts.push(
      el(
        "p",
        { class: "floor-now", "data-floor-speaker": String(turn.id) },
        el("span", { class: "floor-label" }, t("Now speaking:")),
        " ",
        el("strong", { class: "floor-name", dir: "auto" }, speakerLabel(turn)),
        turn.kind === "contribution" ? null : el("span", { class: "floor-kind" }, floorKindLabel(turn.kind)),
        " ",
        turnClock(turn),
      ),
    );
  } else {
    parts.push(el("p", { class: "floor-now floor-idle" }, t("Nobody has the floor.")));
  }
  const next = queue.slice(0, nextCount);
  if (next.length) {
    parts.push(
      el(
        "p",
        { class: "floor-next" },
        el("span", { class: "floor-label" }, t("Next:")),
        " ",
        next.flatMap((request, index) => [
          index ? ", " : "",
          el("span", { class: "floor-next-name", dir: "auto" }, speakerLabel(request)),
          request.kind === "point_of_order" ? el("span", { class: "floor-kind" }, floorKindLabel(request.kind)) : null,
        ]),
      ),
    );
  }
  return parts;
}
