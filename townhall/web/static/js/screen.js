// The big screen (venue screen or stream overlay): the question on air in large type, the
// five most-voted open questions, and the join link with its QR code (drawn by the server).
// It joins the room as an audience participant, so it sees exactly what the audience sees.
// A question on air is never cut: its type is sized to the largest that fits its box, for
// whatever screen or window the page is shown on.

import { nowSpeakingView, startClocks, syncServerClock } from "./floor.js";
import { t } from "./labels.js";
import { $, followRoom } from "./page.js";
import { authorLabel, createAnnouncer, el, onAirQuestion, personLabel, topQuestions, votesLabel } from "./qa.js";

const TOP = 5;
const SMALLEST_TYPE = 12; // px: below this nobody reads it anyway; the box scrolls no more
const root = $("screen");
const config = { roomId: Number(root.dataset.roomId), wsUrl: root.dataset.wsUrl };
syncServerClock(root);

function byLine(q) {
  const asked = q.anonymous ? t("Asked anonymously") : t("Asked by {author}", { author: authorLabel(q) });
  return q.to ? t("{asked} to {person}", { asked, person: personLabel(q.to) }) : asked;
}

// Now speaking and who is next, shown only while the floor is in use.
function renderFloor(floor) {
  const show = Boolean(floor && (floor.speaking || floor.queue.length));
  $("screen-floor").hidden = !show;
  $("floor-now").replaceChildren(...(show ? nowSpeakingView(floor) : []));
}

/** The largest type (whole pixels) at which the on-air box holds the whole question. */
function fitQuestion() {
  const question = root.querySelector("#onair .qa-screen-question");
  if (question) {
    const box = $("onair");
    const fits = () => box.scrollHeight <= box.clientHeight + 1 && question.scrollWidth <= question.clientWidth + 1;
    const size = (px) => {
      question.style.fontSize = `${px}px`;
    };
    let low = SMALLEST_TYPE;
    let high = Math.max(low, Math.floor(Math.min(innerHeight * 0.11, innerWidth * 0.065)));
    size(high);
    if (!fits()) {
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        size(middle);
        if (fits()) low = middle;
        else high = middle;
      }
      size(low);
    }
  }
  root.dataset.fitted = `${innerWidth}x${innerHeight}`;
}

function render(state) {
  renderFloor(state.floor);
  const q = onAirQuestion(state);
  $("onair").replaceChildren(
    ...(q
      ? [
          el("p", { class: "qa-screen-question", dir: "auto" }, q.text),
          el("p", { class: "qa-screen-by", dir: "auto" }, byLine(q)),
        ]
      : [el("p", { class: "qa-screen-waiting" }, t("The next question appears here."))]),
  );
  root.dataset.onAir = q ? "yes" : "no";
  const top = topQuestions(state, TOP);
  // No empty heading on the wall: the section shows once there is a question to list.
  $("top").closest("section").hidden = top.length === 0;
  $("top").replaceChildren(
    ...top.map((item) =>
      el(
        "li",
        { class: "qa-screen-item" },
        el("span", { class: "qa-screen-votes" }, votesLabel(item.votes)),
        el("span", { class: "qa-screen-item-text", dir: "auto" }, item.text),
      ),
    ),
  );
  fitQuestion();
}

const announce = createAnnouncer($("announce-polite"), $("announce-assertive"));
// Quiet when live: the overlay shows only a problem.
followRoom({
  roomId: config.roomId,
  wsUrl: config.wsUrl,
  banner: $("connection-status"),
  quiet: true,
  onUpdate(state, { previous }) {
    render(state);
    announce(previous, state);
  },
});
startClocks(root);
addEventListener("resize", fitQuestion);
