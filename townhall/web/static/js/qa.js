// Q&A on the client: a pure reducer of the room's question events, the orderings the views
// share, and small DOM helpers. Question text is user input: it only ever reaches the page
// through textContent / createTextNode, never innerHTML, so "<script>" in a question is text.
//
// Event semantics (townhall/platform/questions.py): a `data.question` view is MERGED into
// the question with that id (upsert: public and private views of one question combine);
// `question.removed` deletes it (it left this viewer's sight); counters, on-air and the pinned
// list are replaced whole; `question.votes_changed` carries absolute counts by id.

import { clockTimeWithZone, language as pageLanguage, questionStatusLabel, t, tn } from "./labels.js";
import { applyRoomEvent } from "./live.js";

export const PUBLIC_STATUSES = Object.freeze(["approved", "answered"]);
const NO_COUNTERS = Object.freeze({ received: 0, approved: 0, answered: 0, dismissed: 0 });

/** The room state of a snapshot with its Q&A part complete (older servers may omit keys). */
export function questionsFromSnapshot(state) {
  return {
    ...state,
    questions: [...(state.questions ?? [])].sort((a, b) => a.id - b.id),
    counters: { ...NO_COUNTERS, ...(state.counters ?? {}) },
    on_air: state.on_air ?? null,
    pinned: [...(state.pinned ?? [])],
    my_votes: [...(state.my_votes ?? [])],
  };
}

/** Merge a view into the question with its id, or insert it in id order. */
export function upsertQuestion(questions, view) {
  const index = questions.findIndex((q) => q.id === view.id);
  if (index >= 0) {
    const next = [...questions];
    next[index] = { ...questions[index], ...view };
    return next;
  }
  const at = questions.findIndex((q) => q.id > view.id);
  const next = [...questions];
  next.splice(at < 0 ? next.length : at, 0, { ...view });
  return next;
}

function withVoteCounts(questions, votes) {
  return questions.map((q) => (Object.hasOwn(votes, String(q.id)) ? { ...q, votes: votes[String(q.id)] } : q));
}

function withPinned(questions, pinned) {
  const position = new Map(pinned.map((id, index) => [id, index]));
  return questions.map((q) => {
    const want = position.has(q.id) ? position.get(q.id) : null;
    return (q.pinned ?? null) === want ? q : { ...q, pinned: want };
  });
}

/** The state after one `question.*` event; other events leave it as it was. */
export function applyQuestionEvent(state, event) {
  const data = event.data ?? {};
  const questions = state.questions ?? [];
  switch (event.name) {
    case "question.submitted":
    case "question.approved":
    case "question.dismissed":
    case "question.restored":
    case "question.edited":
    case "question.merged":
    case "question.answered":
    case "question.archived":
    case "question.assigned":
      return data.question ? { ...state, questions: upsertQuestion(questions, data.question) } : state;
    case "question.votes_changed": {
      let next = questions;
      if (data.question) next = upsertQuestion(next, data.question);
      if (data.votes) next = withVoteCounts(next, data.votes);
      return { ...state, questions: next };
    }
    case "question.removed":
      return { ...state, questions: questions.filter((q) => q.id !== data.question) };
    case "question.counters_changed":
      return { ...state, counters: { ...data.counters } };
    case "question.on_air":
      return { ...state, on_air: data.question ?? null };
    case "question.pinned":
      return { ...state, pinned: [...data.pinned], questions: withPinned(questions, data.pinned) };
    default:
      return state;
  }
}

/** The reducer for LiveConnection: Q&A events here, room events in live.js. */
export function applyEvent(state, event) {
  return event.name.startsWith("question.") ? applyQuestionEvent(state, event) : applyRoomEvent(state, event);
}

/** `my_votes` after the reply to one's own vote/unvote (personal: not in the room's log). */
export function withMyVote(state, questionId, voted, votes = null) {
  const mine = new Set(state.my_votes ?? []);
  if (voted) mine.add(questionId);
  else mine.delete(questionId);
  let questions = state.questions ?? [];
  if (votes !== null) questions = questions.map((q) => (q.id === questionId ? { ...q, votes } : q));
  return { ...state, my_votes: [...mine].sort((a, b) => a - b), questions };
}

// ---- selections and orderings ----------------------------------------------------------

const created = (q) => Date.parse(q.created_at ?? "") || 0;

/** "popular": most votes first, then the oldest; "recent": newest first. */
export function sortQuestions(questions, order = "popular") {
  const list = [...questions];
  if (order === "recent") return list.sort((a, b) => created(b) - created(a) || b.id - a.id);
  return list.sort((a, b) => (b.votes ?? 0) - (a.votes ?? 0) || created(a) - created(b) || a.id - b.id);
}

export function questionById(state, id) {
  return (state.questions ?? []).find((q) => q.id === id) ?? null;
}

export const withStatus = (state, ...statuses) => (state.questions ?? []).filter((q) => statuses.includes(q.status));

/** Open questions (approved, not yet answered) in the given order. */
export const openQuestions = (state, order = "popular") => sortQuestions(withStatus(state, "approved"), order);

/** Answered questions, the most recently answered first (their own tab). */
export function answeredQuestions(state) {
  const answered = (q) => Date.parse(q.answered_at ?? "") || 0;
  return withStatus(state, "answered").sort((a, b) => answered(b) - answered(a) || b.id - a.id);
}

/** The "next up" list: pinned questions still open, in their order. */
export function nextUp(state) {
  return (state.pinned ?? []).map((id) => questionById(state, id)).filter((q) => q && q.status === "approved");
}

/**
 * What Next up lists for the moderators: the pinned questions still waiting, without the one
 * on air (it is taken already), each with its position in the whole pinned list (the
 * server's, which the move buttons speak).
 */
export function waitingNextUp(state) {
  return nextUp(state)
    .map((question, position) => ({ question, position }))
    .filter(({ question }) => question.id !== state.on_air);
}

/** The question the "next" shortcut puts on air: first pinned, else the most voted. */
export function nextCandidate(state, exclude = []) {
  const skip = new Set([state.on_air, ...exclude].filter((id) => id != null));
  return nextUp(state).find((q) => !skip.has(q.id)) ?? openQuestions(state).find((q) => !skip.has(q.id)) ?? null;
}

export function onAirQuestion(state) {
  return state.on_air == null ? null : questionById(state, state.on_air);
}

/** Top `count` open questions by votes, leaving out the one on air. */
export function topQuestions(state, count) {
  return openQuestions(state).filter((q) => q.id !== state.on_air).slice(0, count);
}

const words = (text) => new Set(text.toLocaleLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

/** `questions`, the most like `text` first (shared words over all words), then the oldest. */
export function closestFirst(text, questions) {
  const mine = words(text);
  const likeness = (q) => {
    const theirs = words(q.text);
    const common = [...theirs].filter((word) => mine.has(word)).length;
    const all = mine.size + theirs.size - common;
    return all ? common / all : 0;
  };
  return questions
    .map((q) => [likeness(q), q])
    .sort((a, b) => b[0] - a[0] || a[1].id - b[1].id)
    .map(([, q]) => q);
}

/** Questions put to (asked of, or assigned to) one panelist. */
export function questionsFor(state, personKey) {
  if (!personKey) return [];
  return openQuestions(state).filter((q) => q.to?.key === personKey || q.assigned_to?.key === personKey);
}

// ---- languages -------------------------------------------------------------------------
// A question carries the BCP 47 tag it was asked in ("fr", "fr-CA"), or null when its client
// said none; the moderators' filter matches the tag exactly, "" standing for none said.

/** The languages of these questions, most asked first (then by tag); "" for none said. */
export function questionLanguages(questions) {
  const counts = new Map();
  for (const q of questions) {
    const tag = q.language ?? "";
    counts.set(tag, (counts.get(tag) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([tag]) => tag);
}

/** The questions asked in `language` ("" for none said); all of them when it is null. */
export function inLanguage(questions, language) {
  if (language == null) return questions;
  return questions.filter((q) => (q.language ?? "") === language);
}

/** A language tag named in the page's language ("French" on an English page, "Fransızca"…). */
export function languageLabel(tag) {
  if (!tag) return t("Language not said");
  try {
    const name = new Intl.DisplayNames([pageLanguage], { type: "language" }).of(tag);
    return name && name !== tag ? name : tag;
  } catch {
    return tag;
  }
}

// ---- words -----------------------------------------------------------------------------

export function authorLabel(q) {
  if (q.anonymous) return t("Anonymous");
  return q.author ?? q.author_name ?? t("Guest");
}

export function personLabel(person) {
  if (!person) return "";
  return person.city && person.city !== person.name ? `${person.name}, ${person.city}` : person.name;
}

export function votesLabel(count) {
  return tn("{count} vote", "{count} votes", count ?? 0);
}

/** "16:05 (UTC+3)": when a question was asked, in the viewer's zone, the zone named. */
export function clockTime(iso) {
  return clockTimeWithZone(iso);
}

export function shorten(text, length = 140) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

const TAKEN = {
  approved: () => t("Another moderator already approved this question."),
  answered: () => t("Another moderator already marked this question answered."),
  dismissed: () => t("Another moderator already dismissed this question."),
  archived: () => t("Another moderator already archived this question."),
  merged: () => t("Another moderator already merged this question."),
};

/**
 * What to tell a moderator whose action lost a race, from the question as it now is and the
 * status the action was heading for ("approved" for question.approve …).
 */
export function conflictMessage(fresh, wanted = null) {
  if (!fresh) return t("Another moderator changed this question first.");
  if (fresh.status === wanted && TAKEN[wanted]) return TAKEN[wanted]();
  return t("Another moderator changed this question first: it is now {status}.", {
    status: questionStatusLabel(fresh.status).toLowerCase(),
  });
}

// ---- DOM -------------------------------------------------------------------------------

/** createElement with attributes and children (strings become text nodes, never HTML). */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
  return node;
}

/** The question's text, its asker (`author`: as the viewer may see it) and whom it is for. */
export function questionBody(q, { showVotes = true, large = false, author = null } = {}) {
  const meta = [author ?? authorLabel(q)];
  if (q.to) meta.push(t("to {person}", { person: personLabel(q.to) }));
  if (q.assigned_to && q.assigned_to.key !== q.to?.key) {
    meta.push(t("assigned to {person}", { person: personLabel(q.assigned_to) }));
  }
  if (showVotes) meta.push(votesLabel(q.votes));
  if (q.edited) meta.push(t("edited"));
  return el(
    "div",
    { class: large ? "qa-question qa-question-large" : "qa-question" },
    el("p", { class: "qa-question-text", dir: "auto" }, q.text),
    el("p", { class: "qa-question-meta", dir: "auto" }, meta.join(" · ")),
  );
}

/** Announce to screen readers what changed between two states (not on a snapshot). */
export function announcements(previous, next, { staff = false } = {}) {
  if (!previous) return { polite: [], assertive: [] };
  const before = new Map((previous.questions ?? []).map((q) => [q.id, q]));
  const polite = [];
  for (const q of next.questions ?? []) {
    const was = before.get(q.id);
    if (q.status === "approved" && was?.status !== "approved" && q.id !== next.on_air) {
      polite.push(t("New question from {author}: {text}", { author: authorLabel(q), text: shorten(q.text) }));
    } else if (staff && q.status === "pending" && !was) {
      polite.push(t("New question waiting for approval: {text}", { text: shorten(q.text) }));
    }
  }
  const assertive = [];
  if (next.on_air != null && next.on_air !== previous.on_air) {
    const q = questionById(next, next.on_air);
    if (q) assertive.push(t("On air, from {author}: {text}", { author: authorLabel(q), text: shorten(q.text, 300) }));
  }
  return { polite: polite.slice(-3), assertive };
}

/** Speaks `announcements` through a polite and an assertive live region. */
export function createAnnouncer(politeRegion, assertiveRegion, options = {}) {
  const say = (region, lines) => {
    if (!region || !lines.length) return;
    region.textContent = "";
    // A fresh text node after a tick: screen readers announce it even if it repeats.
    setTimeout(() => {
      region.textContent = lines.join(". ");
    }, 50);
  };
  return (previous, next) => {
    const { polite, assertive } = announcements(previous, next, options);
    say(politeRegion, polite);
    say(assertiveRegion, assertive);
  };
}
