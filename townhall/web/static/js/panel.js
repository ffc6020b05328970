// The panelists' view: the question on air in large type, the questions put to this panelist
// (asked of them or assigned to them by a moderator), then the audience's top questions.

import { t } from "./labels.js";
import { $, followRoom } from "./page.js";
import { createAnnouncer, el, onAirQuestion, openQuestions, questionBody, questionsFor } from "./qa.js";

const TOP = 10;
const root = $("panel");
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
  $("onair").replaceChildren(
    onAir ? questionBody(onAir, { large: true }) : el("p", { class: "qa-empty" }, t("No question is on air.")),
  );
  const mine = questionsFor(state, config.personKey).filter((q) => q.id !== state.on_air);
  list("mine", "mine-empty", mine);
  const shown = new Set([state.on_air, ...mine.map((q) => q.id)]);
  list("top", "top-empty", openQuestions(state).filter((q) => !shown.has(q.id)).slice(0, TOP));
}

const announce = createAnnouncer($("announce-polite"), $("announce-assertive"));
followRoom({
  roomId: config.roomId,
  wsUrl: config.wsUrl,
  banner: $("connection-status"),
  onUpdate(state, { previous }) {
    render(state);
    announce(previous, state);
  },
});
