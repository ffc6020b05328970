// The moderator console's floor and backstage: the list of speakers with grant / remove /
// move up and down, grant the next speaker, end the turn, this turn's limit, adding a
// panelist of the session; airtime per person and per city; the backstage composer (to the
// panel or one panelist, optionally with a question attached) and the messages sent.
// Every floor command carries the floor's `version` as shown: when another moderator changed
// it first, the refusal (`floor.conflict`) carries the fresh floor, which is shown at once.

import { clockTime, errorMessage, formatNumber, t } from "./labels.js";
import { backstageBySentAt } from "./live.js";
import { floorKindLabel, formatSpan, nowSpeakingView, speakerLabel } from "./floor.js";
import { authorLabel, el, openQuestions, shorten, withStatus } from "./qa.js";

const $ = (id) => document.getElementById(id);
const EMPTY_FLOOR = Object.freeze({ version: null, queue: [], speaking: null });

function panelistLabel(person) {
  return person.city && person.city !== person.name ? `${person.name} (${person.city})` : person.name;
}

function action(label, name, request, { kind = "", disabled = false, text = null } = {}) {
  return el(
    "button",
    {
      type: "button",
      class: `qa-button ${kind}`.trim(),
      disabled,
      "aria-label": text,
      dataset: { floorAction: name, request: String(request.id) },
    },
    label,
  );
}

export class FloorConsole {
  /**
   * @param {object} options
   * @param {Function} options.send (command) => Promise of the reply, for this room.
   * @param {Function} options.patch (changes) => void: lay fresh state (a refusal's floor) over the console's.
   * @param {Function} options.notice (text) => void; options.alert (text) => void.
   */
  /** `clock(iso)`: a time as the console shows it (the event's zone, named). */
  constructor({ panelists, send, patch, notice, alert, clock = clockTime }) {
    this.panelists = panelists;
    this.clock = clock;
    this.send = send;
    this.patch = patch;
    this.notice = notice;
    this.alert = alert;
    this.state = null;
    this.fillStatic();
    this.wire();
  }

  get floor() {
    return this.state?.floor ?? EMPTY_FLOOR;
  }

  fillStatic() {
    const chosen = [$("floor-add-person").value, $("backstage-to").value];
    const people = this.panelists.map((p) => el("option", { value: p.key }, panelistLabel(p)));
    $("floor-add-person").replaceChildren(...people);
    $("backstage-to").replaceChildren(el("option", { value: "" }, t("The whole panel")), ...people.map((o) => o.cloneNode(true)));
    if (chosen[0] && this.panelists.some((p) => p.key === chosen[0])) $("floor-add-person").value = chosen[0];
    if (this.panelists.some((p) => p.key === chosen[1])) $("backstage-to").value = chosen[1];
  }

  /** The room's people changed (a seat filled): offer them as they are now named. */
  setPanelists(panelists) {
    this.panelists = panelists;
    this.fillStatic();
  }

  // ---- rendering -------------------------------------------------------------------------

  render(state) {
    this.state = state;
    const active = document.activeElement;
    const focus = active?.dataset?.floorAction ? [active.dataset.floorAction, active.dataset.request] : null;
    this.renderFloor();
    this.renderAirtime();
    this.renderBackstage();
    if (focus) {
      const again = $("floor-console").querySelector(`[data-floor-action="${focus[0]}"][data-request="${focus[1]}"]`);
      again?.focus({ preventScroll: true });
    }
  }

  renderFloor() {
    const floor = this.floor;
    $("floor-now").replaceChildren(...nowSpeakingView(floor, { nextCount: 0 }));
    const queue = floor.queue;
    $("floor-queue").replaceChildren(
      ...queue.map((request, index) =>
        el(
          "li",
          { "data-floor-request": String(request.id) },
          el("span", { class: "floor-name", dir: "auto" }, speakerLabel(request)),
          el("span", { class: "floor-kind" }, floorKindLabel(request.kind)),
          request.added_by_moderator ? el("span", { class: "floor-label" }, " · ", t("added by a moderator")) : null,
          el("span", { class: "floor-label" }, " · ", t("asked at {time}", { time: this.clock(request.requested_at) })),
          el(
            "div",
            { class: "qa-button-row" },
            action(t("Grant the floor"), "grant", request, { kind: "qa-primary" }),
            action(t("Up"), "up", request, { disabled: index === 0, text: t("Move {name} up", { name: request.name }) }),
            action(t("Down"), "down", request, {
              disabled: index === queue.length - 1,
              text: t("Move {name} down", { name: request.name }),
            }),
            action(t("Remove"), "remove", request, { kind: "qa-danger" }),
          ),
        ),
      ),
    );
    $("floor-queue-empty").hidden = queue.length > 0;
    $("floor-grant-next").disabled = queue.length === 0;
    $("floor-end-turn").disabled = !floor.speaking;
    $("floor-limit-form").hidden = !floor.speaking;
    const input = $("floor-limit");
    if (document.activeElement !== input) {
      input.value = floor.speaking?.limit_seconds ? String(floor.speaking.limit_seconds / 60) : "";
    }
  }

  renderAirtime() {
    const airtime = this.state?.floor_airtime ?? { people: [], cities: [] };
    const row = (cells) => el("tr", {}, cells);
    const time = (seconds) => el("td", { class: "floor-number" }, formatSpan(seconds));
    const turns = (count) => el("td", { class: "floor-number" }, formatNumber(count));
    $("airtime-people").replaceChildren(
      ...airtime.people.map((p) => row([el("td", { dir: "auto" }, p.name), el("td", { dir: "auto" }, p.city ?? ""), turns(p.turns), time(p.seconds)])),
    );
    $("airtime-cities").replaceChildren(
      ...airtime.cities.map((c) => row([el("td", { dir: "auto" }, c.city ?? t("(no city)")), turns(c.turns), time(c.seconds)])),
    );
    $("airtime-empty").hidden = airtime.people.length > 0;
  }

  renderBackstage() {
    const messages = backstageBySentAt(this.state?.backstage ?? []).reverse();
    $("backstage-list").replaceChildren(
      ...messages.map((m) =>
        el(
          "li",
          { class: `backstage-message${m.to ? " is-private" : ""}`, "data-message": m.id },
          el(
            "p",
            { class: "backstage-meta" },
            el("span", { dir: "auto" }, m.from.name),
            " → ",
            el("span", { dir: "auto" }, m.to ? m.to.name : t("the whole panel")),
            " · ",
            el("time", { datetime: m.sent_at }, this.clock(m.sent_at)),
          ),
          el("p", { class: "backstage-text", dir: "auto" }, m.text),
          m.question ? el("blockquote", { class: "backstage-question", dir: "auto" }, m.question.text) : null,
        ),
      ),
    );
    $("backstage-empty").hidden = messages.length > 0;
    // Questions a moderator may pass on: those waiting and those live, the chosen one kept.
    const select = $("backstage-question");
    if (document.activeElement === select) return; // rebuilt later: an open list must not close under the pointer
    const chosen = select.value;
    const questions = [...withStatus(this.state, "pending"), ...openQuestions(this.state)];
    select.replaceChildren(
      el("option", { value: "" }, t("(no question)")),
      ...questions.map((q) =>
        el("option", { value: String(q.id), selected: String(q.id) === chosen }, `#${q.id} ${authorLabel(q)}: ${shorten(q.text, 60)}`),
      ),
    );
  }

  // ---- commands --------------------------------------------------------------------------

  /** A floor command with the version shown; a refusal that carries the floor shows it. */
  async command(command, done) {
    if (!this.state?.floor) {
      // No floor seen yet (no snapshot): a command without a version would skip the check.
      this.alert(errorMessage({ code: "connection.offline" }));
      return null;
    }
    try {
      const reply = await this.send({ ...command, version: this.floor.version });
      if (done) this.notice(done);
      return reply ?? {};
    } catch (error) {
      const fresh = error.details?.floor;
      if (fresh && typeof fresh === "object") this.patch({ floor: fresh });
      this.alert(errorMessage(error));
      return null;
    }
  }

  moved(requestId, delta) {
    const order = this.floor.queue.map((r) => r.id);
    const index = order.indexOf(requestId);
    const to = index + delta;
    if (index < 0 || to < 0 || to >= order.length) return null;
    [order[index], order[to]] = [order[to], order[index]];
    return order;
  }

  onQueueAction(name, requestId) {
    switch (name) {
      case "grant":
        return this.command({ type: "floor.grant", request: requestId }, t("Floor granted."));
      case "remove":
        return this.command({ type: "floor.remove", request: requestId }, t("Removed from the list of speakers."));
      case "up":
      case "down": {
        const order = this.moved(requestId, name === "up" ? -1 : 1);
        return order ? this.command({ type: "floor.reorder", order }) : null;
      }
      default:
        return null;
    }
  }

  wire() {
    $("floor-queue").addEventListener("click", (event) => {
      const b = event.target.closest("[data-floor-action]");
      if (b && !b.disabled) this.onQueueAction(b.dataset.floorAction, Number(b.dataset.request));
    });
    $("floor-grant-next").addEventListener("click", () =>
      this.command({ type: "floor.grant", request: null }, t("Floor granted.")),
    );
    $("floor-end-turn").addEventListener("click", () => this.command({ type: "floor.end_turn" }, t("Turn ended.")));
    $("floor-limit-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const minutes = Number($("floor-limit").value);
      const seconds = $("floor-limit").value.trim() === "" ? null : Math.round(minutes * 60);
      this.command({ type: "floor.set_limit", seconds }, t("Time limit set."));
    });
    $("floor-add-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.command(
        { type: "floor.add", person: $("floor-add-person").value, kind: $("floor-add-kind").value },
        t("Added to the list of speakers."),
      );
    });
    $("backstage-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = $("backstage-text");
      const question = $("backstage-question").value;
      try {
        await this.send({
          type: "backstage.send",
          text: text.value,
          to: $("backstage-to").value || null,
          question: question ? Number(question) : null,
        });
        text.value = "";
        $("backstage-question").value = "";
        this.notice(t("Backstage message sent."));
      } catch (error) {
        this.alert(errorMessage(error));
      }
    });
  }
}
