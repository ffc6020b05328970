// What every live page does at start-up, in one place: find its elements, show the connection
// in its status line (the same words everywhere, from labels.js), follow one room's questions
// through live.js and qa.js's reducer, and say why a join failed. Pages add only their views.

import { connectionText, errorMessage, t, tn } from "./labels.js";
import { LiveConnection } from "./live.js";
import { applyEvent, questionsFromSnapshot } from "./qa.js";

export const $ = (id) => document.getElementById(id);

/** Show the connection's state in a status line; `quiet` shows nothing while live. */
export function connectionBanner(banner, { quiet = false } = {}) {
  return ({ state, reason }) => {
    banner.dataset.connection = state;
    banner.textContent = quiet && state === "live" ? "" : connectionText(state, reason);
  };
}

/**
 * While commands wait for the service to come back (live.js queues what the server refused as
 * `unavailable`), say so in the status line; when none waits, show the connection again.
 */
export function queueNotice(live, banner) {
  live.on("queue", ({ queued }) => {
    if (queued) {
      banner.dataset.connection = "queued";
      banner.textContent = tn("The service is briefly unavailable: your action is kept and will be sent again.", "The service is briefly unavailable: your {count} actions are kept and will be sent again.", queued);
    } else if (banner.dataset.connection === "queued") {
      connectionBanner(banner)({ state: live.state });
    }
  });
}

/** "Could not join the room: …", the server's error code in the page's language. */
export function joinFailed(error) {
  return t("Could not join the room: {reason}", { reason: errorMessage(error) });
}

/**
 * Follow one room: `onUpdate(state, { previous, event })` after its snapshot (event null) and
 * after each of its events. Returns the connection, for pages that send commands.
 */
export function followRoom({ roomId, wsUrl, banner, onUpdate, onJoinError = null, quiet = false, reducer = applyEvent }) {
  const live = new LiveConnection({ url: wsUrl, reducer });
  let current = null;
  if (banner) {
    live.on("state", connectionBanner(banner, { quiet }));
    queueNotice(live, banner);
  }
  live.on("snapshot", ({ room, state }) => {
    if (room !== roomId) return;
    current = questionsFromSnapshot(state);
    onUpdate(current, { previous: null, event: null });
  });
  live.on("event", ({ room, event, state }) => {
    if (room !== roomId) return;
    const previous = current;
    current = state;
    onUpdate(current, { previous, event });
  });
  live.start();
  live.join(roomId).catch(
    onJoinError ??
      ((error) => {
        if (banner) banner.textContent = joinFailed(error);
      }),
  );
  return live;
}

/** Run `start` once the document is parsed. */
export function onReady(start) {
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
}
