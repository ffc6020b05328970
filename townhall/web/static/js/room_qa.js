// The audience's Q&A on the room page: ask (by name or anonymously, optionally to one
// panelist), follow what became of one's own questions, vote, and read the room's questions.
// A visitor (no name given yet) reads the same questions live; asking or voting asks them to
// join first (`onJoinWanted`). The question on air sits at the top of the page, outside #qa.
//
// State comes from live.js (the snapshot, then events through qa.js's reducer); the only
// personal changes applied here are one's own votes, from the vote replies. Question text is
// user input: it reaches the page only through qa.js's `el` (text nodes), never as HTML.
//
// A question is sent with a `ref` of its own that doubles as the server's idempotency key:
// when the connection drops before the reply, the same question is sent again with the same
// ref once the connection is back, and the server answers with the first one.

import { errorMessage, formatNumber, questionStatusLabel, t, tn } from "./labels.js";
import {
  announcements,
  answeredQuestions,
  authorLabel,
  clockTime,
  el,
  onAirQuestion,
  openQuestions,
  personLabel,
  questionById,
  questionsFromSnapshot,
  shorten,
  withMyVote,
} from "./qa.js";

const RETRY_AFTER_TIMEOUT_MS = 1000;

/** What a person sees of their own question's fate: a status, and what it means. */
const MINE_STATUS = {
  pending: () => [t("Waiting for moderation"), t("Only you and the moderators can see it for now.")],
  approved: () => [t("Published"), t("Everyone can see it and vote for it.")],
  answered: () => [t("Answered"), null],
  dismissed: () => [t("Not published"), null],
  merged: () => [t("Merged into a similar question"), null],
  archived: () => [t("Archived"), t("The moderators put it away.")],
};

/** The length the server checks: trimmed, normalised, in code points. */
export function questionLength(text) {
  return [...text.replace(/\r\n?/g, "\n").normalize("NFC").trim()].length;
}

/** A fresh idempotency key (works on plain http too, unlike crypto.randomUUID). */
export function newRef() {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return `q-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

const seconds = (details) => Math.max(1, Math.ceil(Number(details?.retry_after ?? 1)));

/** The sentence for a refused question, from the server's typed error. */
export function askErrorMessage(error, limits = {}) {
  const details = error.details ?? {};
  switch (error.code) {
    case "question.too_short":
      return t("Your question is too short: write at least {minimum} characters.", {
        minimum: formatNumber(details.minimum ?? limits.min),
      });
    case "question.too_long":
      return t("Your question is too long: at most {maximum} characters.", {
        maximum: formatNumber(details.maximum ?? limits.max),
      });
    case "question.rate_limited":
      return t("You have asked several questions in a row: try again in {seconds} s.", { seconds: seconds(details) });
    case "rate_limited":
      return t("Too many actions at once: try again in {seconds} s.", { seconds: seconds(details) });
    case "question.room_closed":
      return t("Questions are closed: the room is not open for questions right now.");
    case "question.invalid_characters":
      return t("Your question contains invisible control characters: remove them and try again.");
    case "question.unknown_panelist":
      return t("That person is not on this session's panel any more: choose someone else.");
    case "question.duplicate":
      return t("You have already sent this question.");
    case "participant.banned":
      return t("You have been removed from this event and can no longer ask questions.");
    case "auth.required":
      return t("Join the event to ask questions.");
    case "room.not_joined":
      return t("Not in the room yet: try again in a moment.");
    default:
      return errorMessage(error);
  }
}

function voteErrorMessage(error) {
  switch (error.code) {
    case "vote.rate_limited":
    case "rate_limited":
      return t("You are voting very fast: try again in {seconds} s.", { seconds: seconds(error.details) });
    case "question.not_votable":
      return t("This question no longer takes votes.");
    case "question.not_found":
      return t("This question is no longer there.");
    case "participant.banned":
      return t("You have been removed from this event and can no longer vote.");
    default:
      return error.code?.startsWith("connection.")
        ? t("Not connected: your vote was not counted. Try again when the connection is back.")
        : errorMessage(error);
  }
}

/** What to tell the author when one of their questions changed status (a published one is
 * announced to everyone by qa.js's `announcements`). */
function ownLine(q) {
  switch (q.status) {
    case "dismissed":
      return q.dismiss_reason
        ? t("Your question was not published: {reason}", { reason: q.dismiss_reason })
        : t("Your question was not published.");
    case "merged":
      return t("Your question was merged into a similar question.");
    case "answered":
      return t("Your question was answered.");
    default:
      return null;
  }
}

export class AudienceQa {
  /**
   * @param {HTMLElement} root the #qa section (data-question-min/-max, data-participant …)
   * @param {object} options roomId; polite and assertive live regions; onJoinWanted: what to
   *   do when a visitor wants to vote (the page offers its join form)
   */
  constructor(root, { roomId, politeRegion, assertiveRegion, onJoinWanted = null }) {
    this.root = root;
    this.roomId = roomId;
    this.politeRegion = politeRegion;
    this.assertiveRegion = assertiveRegion;
    this.onJoinWanted = onJoinWanted;
    this.visitor = false;
    this.limits = { min: Number(root.dataset.questionMin) || 1, max: Number(root.dataset.questionMax) || 500 };
    this.participant = root.dataset.participant || null;
    this.displayName = root.dataset.displayName || null;
    this.live = null;
    this.unsubscribe = [];
    this.state = null;
    this.tab = "open";
    this.sort = "popular";
    this.draft = null; // {ref, text, anonymous, to, language} until the server answered it
    this.sending = false;
    this.retryTimer = null;
    this.voting = new Set(); // question ids with a vote command in flight
    // Status of each own question as last shown. Not the previous state: a public question
    // that is dismissed leaves the audience's view (question.removed) before its author's
    // private copy comes back, one event later.
    this.ownStatus = new Map();
    this.$ = (id) => root.ownerDocument.getElementById(id);
    this.wire();
    this.renderAskAs();
  }

  // ---- connection ----------------------------------------------------------------------

  /** Follow `live` (a LiveConnection with qa.js's reducer); a previous one is let go. */
  attach(live) {
    for (const off of this.unsubscribe) off();
    this.live = live;
    this.unsubscribe = [
      live.on("snapshot", ({ room, state }) => {
        if (room !== this.roomId) return;
        this.state = questionsFromSnapshot(state);
        this.root.hidden = false;
        this.ownStatus = this.ownStatuses(this.state);
        this.render();
      }),
      live.on("event", ({ room, state }) => {
        if (room !== this.roomId) return;
        const previous = this.state;
        this.state = state;
        this.render();
        this.announce(previous, state);
      }),
      live.on("state", ({ state }) => {
        if (!this.draft || this.sending) return;
        if (state === "live") this.sendDraft();
        else if (state === "stopped") this.giveUpDraft();
      }),
    ];
  }

  /** A visitor reads only: no ask form, and voting offers to join instead. */
  setVisitor(visitor) {
    this.visitor = visitor;
    this.$("ask-form").hidden = visitor;
    if (this.state) this.render();
  }

  setIdentity({ participant = null, displayName = null } = {}) {
    this.participant = participant;
    this.displayName = displayName;
    this.renderAskAs();
    if (this.state) this.render();
  }

  /** Replace the state we show and the one live.js builds the next event on. */
  setState(next) {
    this.state = next;
    const room = this.live?.rooms.get(this.roomId);
    if (room?.state) room.state = next;
    this.render();
  }

  get tier() {
    return this.live?.rooms.get(this.roomId)?.tier ?? null;
  }

  /** Own questions: the private views this connection gets (staff get everyone's). */
  isMine = (q) => {
    if (!Object.hasOwn(q, "participant")) return false;
    if (this.participant) return q.participant === this.participant;
    return this.tier !== "staff";
  };

  // ---- DOM events ----------------------------------------------------------------------

  wire() {
    const form = this.$("ask-form");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.$("ask-text").addEventListener("input", () => {
      this.renderCount();
      if (!this.draft) this.$("ask-sent").textContent = "";
    });
    this.$("ask-anonymous").addEventListener("change", () => this.renderAskAs());
    this.$("qa-onair").addEventListener("click", (event) => {
      const vote = event.target.closest("[data-vote]");
      if (vote) this.toggleVote(Number(vote.dataset.vote));
    });
    this.root.addEventListener("click", (event) => {
      const vote = event.target.closest("[data-vote]");
      if (vote) this.toggleVote(Number(vote.dataset.vote));
      const sort = event.target.closest("[data-sort]");
      if (sort) {
        this.sort = sort.dataset.sort;
        this.render();
      }
      const tab = event.target.closest("[data-tab]");
      if (tab) this.switchTab(tab.dataset.tab);
    });
    this.root.querySelector('[role="tablist"]').addEventListener("keydown", (event) => {
      const tabs = ["open", "answered"];
      const at = tabs.indexOf(this.tab);
      const next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      this.switchTab(tabs[(next + tabs.length) % tabs.length], { focus: true });
    });
    this.renderCount();
  }

  switchTab(name, { focus = false } = {}) {
    this.tab = name;
    this.render();
    if (focus) this.$(`qa-tab-${name}`).focus();
  }

  // ---- asking --------------------------------------------------------------------------

  submit() {
    if (this.draft) return; // one question at a time: it is being sent
    const text = this.$("ask-text").value;
    const length = questionLength(text);
    const { min, max } = this.limits;
    if (length < min || length > max) {
      const code = length < min ? "question.too_short" : "question.too_long";
      this.showAskError(askErrorMessage({ code, details: { minimum: min, maximum: max } }, this.limits));
      this.$("ask-text").focus();
      return;
    }
    const to = this.$("ask-to")?.value || null;
    // The language it is asked in: the interface language unless the asker picked another.
    const language = this.$("ask-language")?.value || document.documentElement.lang || null;
    this.draft = { ref: newRef(), text, anonymous: this.$("ask-anonymous").checked, to, language };
    this.sendDraft();
  }

  async sendDraft() {
    const draft = this.draft;
    if (!draft || !this.live) return;
    clearTimeout(this.retryTimer);
    this.sending = true;
    this.renderSending(true, t("Sending…"));
    this.showAskError("");
    try {
      const reply = await this.live.send({
        type: "question.submit",
        ref: draft.ref,
        room: this.roomId,
        text: draft.text,
        anonymous: draft.anonymous,
        to: draft.to,
        language: draft.language,
      });
      this.draft = null;
      this.$("ask-text").value = "";
      // The next question starts afresh: to the whole panel, by name (a choice left set
      // sent the following questions to the wrong person).
      if (this.$("ask-to")) this.$("ask-to").value = "";
      this.$("ask-anonymous").checked = false;
      this.renderAskAs();
      this.renderCount();
      this.renderSending(
        false,
        reply.status === "pending"
          ? t("Sent. It waits for moderation: “Your questions” shows what becomes of it.")
          : t("Sent and published."),
      );
    } catch (error) {
      if (error.code?.startsWith("connection.")) {
        if (this.live.state === "stopped") {
          this.giveUpDraft();
          return;
        }
        // Maybe it arrived, maybe not: the same ref again cannot ask twice.
        this.renderSending(true, t("Not sent yet: it goes out as soon as the connection is back."));
        if (this.live.state === "live") {
          this.retryTimer = setTimeout(() => this.sendDraft(), RETRY_AFTER_TIMEOUT_MS);
        }
        return;
      }
      this.draft = null;
      this.renderSending(false, "");
      this.showAskError(askErrorMessage(error, this.limits));
    } finally {
      this.sending = false;
    }
  }

  /** The connection will not come back by itself (banned, or the identity is gone). */
  giveUpDraft() {
    clearTimeout(this.retryTimer);
    this.draft = null;
    this.renderSending(false, "");
    this.showAskError(t("Disconnected: your question may not have been sent."));
  }

  renderSending(busy, message) {
    const button = this.$("ask-send");
    button.disabled = busy;
    button.textContent = busy ? t("Sending…") : t("Send question");
    this.$("ask-text").readOnly = busy;
    this.$("ask-sent").textContent = message;
  }

  showAskError(text) {
    this.$("ask-error").textContent = text;
    if (text) this.$("ask-sent").textContent = "";
  }

  renderCount() {
    const length = questionLength(this.$("ask-text").value);
    const { max } = this.limits;
    const counter = this.$("ask-count");
    counter.dataset.over = String(length > max);
    const count = `${formatNumber(length)} / ${formatNumber(max)}`;
    counter.textContent =
      length > max ? t("{shown}: {count} too many", { shown: count, count: formatNumber(length - max) }) : count;
  }

  renderAskAs() {
    const line = this.$("ask-as");
    if (this.$("ask-anonymous").checked) line.textContent = t("You ask anonymously.");
    else if (this.displayName) {
      // The name keeps its own direction and weight inside the translated sentence.
      const [before, after] = t("You ask as {name}.").split("{name}");
      line.replaceChildren(before ?? "", el("strong", { dir: "auto" }, this.displayName), after ?? "");
    }
    else line.textContent = "";
  }

  // ---- voting --------------------------------------------------------------------------

  async toggleVote(id) {
    if (this.visitor) {
      this.onJoinWanted?.();
      return;
    }
    if (!this.live || !this.state || this.voting.has(id)) return;
    const up = !(this.state.my_votes ?? []).includes(id);
    this.voting.add(id);
    this.$("qa-vote-error").textContent = "";
    try {
      const type = up ? "question.vote" : "question.unvote";
      const reply = await this.live.send({ type, room: this.roomId, question: id });
      this.setState(withMyVote(this.state, reply.question, reply.voted, reply.votes));
    } catch (error) {
      this.$("qa-vote-error").textContent = voteErrorMessage(error);
    } finally {
      this.voting.delete(id);
    }
  }

  // ---- rendering -----------------------------------------------------------------------

  /** The "Addressed to" choices follow the room's people (a seat filled: `room.people_changed`). */
  renderAddressees(people) {
    const select = this.$("ask-to");
    const shown = JSON.stringify(people ?? null);
    if (!select || !people || shown === this.addresseesShown) return;
    this.addresseesShown = shown;
    const chosen = select.value;
    const options = people.map((person) => el("option", { value: person.key, dir: "auto" }, person.name));
    select.replaceChildren(select.options[0], ...options);
    select.value = people.some((person) => person.key === chosen) ? chosen : "";
  }

  render() {
    const state = this.state;
    if (!state) return;
    const active = this.root.ownerDocument.activeElement;
    const focusVote = active?.dataset?.vote ?? null;
    const focusIn = active?.closest?.("[data-list]")?.dataset.list ?? null;

    this.renderClosed(state.room);
    this.renderAddressees(state.people);
    this.renderCounters(state.counters);
    this.renderOnAir(state);
    this.renderMine(state);
    this.renderList(state);

    if (focusVote && focusIn) {
      const again = this.root.ownerDocument.querySelector(`[data-list="${focusIn}"] [data-vote="${focusVote}"]`);
      again?.focus({ preventScroll: true });
    }
  }

  renderClosed(room) {
    const note = this.$("ask-closed");
    const closed = {
      scheduled: t("You can ask questions as soon as the room opens."),
      ended: t("The session has ended: questions are closed."),
      archived: t("This room is archived: questions are closed."),
    }[room?.state];
    note.hidden = !closed;
    note.textContent = closed ?? "";
  }

  renderCounters(counters) {
    for (const node of this.root.querySelectorAll("[data-counter]")) {
      node.textContent = formatNumber(counters?.[node.dataset.counter] ?? 0);
    }
  }

  voteButton(q, list) {
    const voted = (this.state.my_votes ?? []).includes(q.id);
    return el(
      "button",
      {
        type: "button",
        class: "room-qa-vote",
        "aria-pressed": String(voted),
        "aria-describedby": `${list}-q${q.id}-text`,
        dataset: { vote: String(q.id) },
      },
      el("span", { class: "room-qa-vote-icon", "aria-hidden": "true" }, "▲"),
      el("span", { class: "room-qa-vote-label" }, t("Upvote")),
      " ",
      el("span", { class: "room-qa-votes" }, formatNumber(q.votes ?? 0)),
      el("span", { class: "visually-hidden" }, ` ${tn("vote", "votes", q.votes ?? 0)}`),
    );
  }

  meta(q, { answered = false } = {}) {
    const parts = [authorLabel(q)];
    if (q.to) parts.push(t("to {person}", { person: personLabel(q.to) }));
    if (answered) {
      parts.push(tn("{count} vote", "{count} votes", q.votes ?? 0));
      const at = q.answered_at ? clockTime(q.answered_at) : "";
      if (q.answered_by && at) parts.push(t("answered by {person} at {time}", { person: q.answered_by, time: at }));
      else if (q.answered_by) parts.push(t("answered by {person}", { person: q.answered_by }));
      else if (at) parts.push(t("answered at {time}", { time: at }));
      else parts.push(questionStatusLabel("answered").toLowerCase());
    } else if (q.created_at) {
      parts.push(clockTime(q.created_at));
    }
    if (q.edited) parts.push(t("edited by a moderator"));
    return el("p", { class: "room-qa-meta", dir: "auto" }, parts.join(" · "));
  }

  /** One question of the room's list ("open", "answered") or the one on air ("onair"). */
  item(q, list) {
    const votable = q.status === "approved";
    return el(
      "li",
      { class: `room-qa-item${this.isMine(q) ? " is-mine" : ""}`, dataset: { question: String(q.id) } },
      el("p", { class: "room-qa-text", id: `${list}-q${q.id}-text`, dir: "auto" }, q.text),
      this.meta(q, { answered: q.status === "answered" }),
      votable ? this.voteButton(q, list) : null,
    );
  }

  renderOnAir(state) {
    const q = onAirQuestion(state);
    const box = this.$("qa-onair");
    box.hidden = !q;
    const body = this.$("qa-onair-body");
    body.dataset.list = "onair";
    body.replaceChildren(...(q ? [el("ol", { class: "room-qa-list" }, this.item(q, "onair"))] : []));
  }

  mineItem(q) {
    const onAir = q.status === "approved" && q.id === this.state.on_air;
    const [status, meaning] = onAir
      ? [t("On air now"), t("The panel is taking it now.")]
      : (MINE_STATUS[q.status]?.() ?? [q.status, null]);
    const details = meaning ? [el("p", { class: "room-qa-detail" }, meaning)] : [];
    if (q.status === "answered" && q.answered_by) {
      details.push(el("p", { class: "room-qa-detail", dir: "auto" }, t("Answered by {person}.", { person: q.answered_by })));
    }
    if (q.status === "dismissed") {
      details.push(
        el(
          "p",
          { class: "room-qa-detail room-qa-reason", dir: "auto" },
          q.dismiss_reason
            ? t("Moderator's reason: {reason}", { reason: q.dismiss_reason })
            : t("The moderators gave no reason."),
        ),
      );
    }
    if (q.status === "merged") {
      const target = q.merged_into == null ? null : questionById(this.state, q.merged_into);
      details.push(
        el(
          "p",
          { class: "room-qa-detail" },
          target
            ? t("It joined “{text}”: its votes, yours included, count there now.", { text: shorten(target.text, 120) })
            : t("Its votes, yours included, count for the question it joined."),
        ),
      );
    }
    const asked = [
      q.anonymous ? t("Asked anonymously") : t("Asked as {author}", { author: q.author_name ?? authorLabel(q) }),
    ];
    if (q.to) asked.push(t("to {person}", { person: personLabel(q.to) }));
    if (q.created_at) asked.push(t("at {time}", { time: clockTime(q.created_at) }));
    return el(
      "li",
      { class: `room-qa-item room-qa-mine-item`, dataset: { question: String(q.id), status: q.status } },
      el("p", { class: "room-qa-text", dir: "auto" }, q.text),
      el("p", { class: "room-qa-meta", dir: "auto" }, asked.join(" ")),
      el("p", { class: "room-qa-status" }, el("span", { class: `room-qa-badge room-qa-status-${q.status}` }, status)),
      ...details,
    );
  }

  renderMine(state) {
    const mine = (state.questions ?? []).filter(this.isMine).sort((a, b) => b.id - a.id);
    this.$("qa-mine").hidden = mine.length === 0;
    this.$("qa-mine-list").replaceChildren(...mine.map((q) => this.mineItem(q)));
  }

  renderList(state) {
    const open = openQuestions(state, this.sort).filter((q) => q.id !== state.on_air);
    const answered = answeredQuestions(state);
    for (const name of ["open", "answered"]) {
      const tab = this.$(`qa-tab-${name}`);
      tab.setAttribute("aria-selected", String(name === this.tab));
      tab.tabIndex = name === this.tab ? 0 : -1;
      this.root.querySelector(`[data-tab-count="${name}"]`).textContent = formatNumber(
        name === "open" ? open.length : answered.length,
      );
    }
    this.$("qa-panel").setAttribute("aria-labelledby", `qa-tab-${this.tab}`);
    this.$("qa-sort").hidden = this.tab !== "open";
    for (const button of this.root.querySelectorAll("[data-sort]")) {
      button.setAttribute("aria-pressed", String(button.dataset.sort === this.sort));
    }
    const shown = this.tab === "open" ? open : answered;
    const list = this.$("qa-list");
    list.dataset.list = this.tab;
    list.replaceChildren(...shown.map((q) => this.item(q, this.tab)));
    const empty = this.$("qa-empty");
    empty.hidden = shown.length > 0;
    empty.textContent =
      this.tab === "open"
        ? state.on_air != null
          ? t("No other open questions.")
          : t("No questions yet.")
        : t("No question has been answered yet.");
  }

  // ---- screen readers ------------------------------------------------------------------

  ownStatuses(state) {
    return new Map((state.questions ?? []).filter(this.isMine).map((q) => [q.id, q.status]));
  }

  announce(previous, next) {
    const { polite, assertive } = announcements(previous, next);
    const own = [];
    const now = this.ownStatuses(next);
    for (const [id, status] of now) {
      const was = this.ownStatus.get(id);
      if (was === undefined || was === status) continue;
      const line = ownLine(questionById(next, id));
      if (line) own.push(line);
    }
    // Remember what left the view too: it may come back in the next event.
    this.ownStatus = new Map([...this.ownStatus, ...now]);
    this.say(this.politeRegion, [...polite, ...own]);
    this.say(this.assertiveRegion, assertive);
  }

  say(region, lines) {
    if (!region || !lines.length) return;
    region.textContent = "";
    // A fresh text node after a tick: screen readers announce it even when it repeats.
    setTimeout(() => {
      region.textContent = lines.join(". ");
    }, 50);
  }
}
