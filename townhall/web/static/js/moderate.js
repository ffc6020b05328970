// The moderator console: the room's question queue in tabs, every moderation action, the
// room's lifecycle and settings, the big-screen link, and keyboard shortcuts.
// State comes from live.js (snapshot + events through qa.js's reducer); actions are commands
// whose replies or typed errors we show. A lost race shows the question as it now is.

import { errorMessage, eventClockTime, formatNumber, questionStatusLabel, roomStateLabel, t } from "./labels.js";
import { syncServerClock, startClocks } from "./floor.js";
import { FloorConsole } from "./moderate_floor.js";
import { $, followRoom, joinFailed } from "./page.js";
import {
  answeredQuestions,
  authorLabel,
  closestFirst,
  conflictMessage,
  createAnnouncer,
  el,
  inLanguage,
  languageLabel,
  nextCandidate,
  nextUp,
  onAirQuestion,
  openQuestions,
  questionBody,
  questionById,
  questionLanguages,
  shorten,
  upsertQuestion,
  votesLabel,
  waitingNextUp,
  withStatus,
} from "./qa.js";

const root = document.getElementById("moderate");
const config = {
  roomId: Number(root.dataset.roomId),
  wsUrl: root.dataset.wsUrl,
  panelists: JSON.parse(root.dataset.panelists || "[]"),
  rotateUrl: root.dataset.rotateUrl,
  timeZone: root.dataset.timezone,
  zoneLabel: root.dataset.zoneLabel,
};

const TABS = ["incoming", "live", "onair", "answered", "closed"];
const TAB_HEADINGS = {
  incoming: () => t("Incoming questions"),
  live: () => t("Live questions"),
  onair: () => t("On air"),
  answered: () => t("Answered questions"),
  closed: () => t("Dismissed, archived and merged questions"),
};
const ROOM_ACTIONS = {
  open: ["scheduled"],
  go_live: ["scheduled", "open", "ended"],
  end: ["open", "live"],
  reopen: ["ended", "archived"],
};

let live = null;
let state = null;
let tab = "incoming";
let selectedId = null;
let languageFilter = null; // a language tag, "" for none said, null for every language
const openMore = new Set(); // question ids whose "More" actions are unfolded

// ---- what each tab lists ---------------------------------------------------------------

function tabQuestions(name) {
  if (!state) return [];
  // The question on air stays in sight whatever the language filter.
  return name === "onair" ? byTab(name) : inLanguage(byTab(name), languageFilter);
}

function byTab(name) {
  switch (name) {
    case "incoming":
      return withStatus(state, "pending").sort((a, b) => a.id - b.id);
    case "live":
      return openQuestions(state);
    case "onair": {
      const q = onAirQuestion(state);
      return q ? [q] : [];
    }
    case "answered":
      return answeredQuestions(state);
    default:
      return withStatus(state, "dismissed", "archived", "merged").sort((a, b) => b.id - a.id);
  }
}

// ---- rendering -------------------------------------------------------------------------

function button(label, action, q, { kind = "", shortcut = null, extra = {} } = {}) {
  return el(
    "button",
    {
      type: "button",
      class: `qa-button ${kind}`.trim(),
      dataset: { action, question: String(q.id), ...extra },
      "aria-keyshortcuts": shortcut,
    },
    label,
    shortcut ? el("kbd", { "aria-hidden": "true" }, shortcut) : null,
  );
}

function actionsFor(q) {
  const main = [];
  const more = [];
  const onAir = q.id === state.on_air;
  if (q.status === "pending") {
    main.push(button(t("Approve"), "approve", q, { kind: "qa-primary", shortcut: "a" }));
    main.push(button(t("Dismiss"), "dismiss", q, { shortcut: "d" }));
    main.push(button(t("Approve and put on air"), "onair", q, { shortcut: "o" }));
  }
  if (q.status === "approved") {
    main.push(
      onAir
        ? button(t("Take off air"), "offair", q, { shortcut: "o" })
        : button(t("Put on air"), "onair", q, { kind: "qa-primary", shortcut: "o" }),
    );
    main.push(button(t("Mark answered"), "answered", q));
    main.push(q.pinned == null ? button(t("Pin to next up"), "pin", q) : button(t("Unpin"), "unpin", q));
    main.push(button(t("Dismiss"), "dismiss", q, { shortcut: "d" }));
  }
  if (["pending", "approved", "answered"].includes(q.status)) more.push(button(t("Edit"), "edit", q));
  if (["pending", "approved"].includes(q.status)) {
    more.push(button(t("Merge into…"), "merge", q));
    more.push(button(q.assigned_to ? t("Reassign…") : t("Assign to panelist…"), "assign", q));
  }
  if (q.status === "dismissed") main.push(button(t("Restore"), "restore", q, { kind: "qa-primary" }));
  if (["approved", "answered", "dismissed"].includes(q.status)) more.push(button(t("Archive"), "archive", q));
  if (q.participant) more.push(button(t("Ban participant…"), "ban", q, { kind: "qa-danger" }));
  const details = el("details", { class: "qa-more", open: openMore.has(q.id), dataset: { question: String(q.id) } });
  details.append(el("summary", {}, t("More")), el("div", { class: "qa-button-row" }, more));
  return el("div", { class: "qa-actions" }, el("div", { class: "qa-button-row" }, main), more.length ? details : null);
}

function badges(q) {
  const list = [el("span", { class: `qa-badge qa-status-${q.status}` }, questionStatusLabel(q.status))];
  if (q.id === state.on_air) list.push(el("span", { class: "qa-badge qa-badge-onair" }, t("On air")));
  if (q.pinned != null && q.status === "approved") list.push(el("span", { class: "qa-badge" }, t("Next up #{position}", { position: q.pinned + 1 })));
  if (q.flagged) list.push(el("span", { class: "qa-badge qa-badge-flag" }, t("Flagged: {words}", { words: q.flagged })));
  if (q.language) list.push(el("span", { class: "qa-badge qa-badge-language", lang: q.language }, languageLabel(q.language)));
  return el("p", { class: "qa-badges" }, list);
}

/** Who asked, once: staff see the name behind an anonymous question too. */
function staffAuthor(q) {
  if (!q.author_name) return authorLabel(q);
  return q.anonymous ? t("{name} (anonymous)", { name: q.author_name }) : q.author_name;
}

/** When, in the event's zone (named, as the organizer console shows it), and what became of it. */
function staffMeta(q) {
  const parts = [t("asked {time}", { time: eventClockTime(q.created_at, config.timeZone, config.zoneLabel) })];
  const target = q.merged_into ? questionById(state, q.merged_into) : null;
  if (target) parts.push(t("merged into “{text}”", { text: shorten(target.text, 60) }));
  else if (q.merged_into) parts.push(t("merged into another question"));
  if (q.answered_by) parts.push(t("answered by {person}", { person: q.answered_by }));
  if (q.dismiss_reason) parts.push(t("reason: {reason}", { reason: q.dismiss_reason }));
  return el("p", { class: "qa-staff-meta", dir: "auto" }, parts.join(" · "));
}

function card(q) {
  const selected = q.id === selectedId;
  return el(
    "li",
    {
      class: `qa-card${selected ? " is-selected" : ""}${q.flagged ? " is-flagged" : ""}`,
      tabindex: "-1",
      "aria-current": selected ? "true" : null,
      dataset: { question: String(q.id) },
    },
    badges(q),
    questionBody(q, { author: staffAuthor(q) }),
    staffMeta(q),
    actionsFor(q),
  );
}

function nextUpItem(q, index, count) {
  const up = button(t("Move up"), "move-up", q, { extra: { position: String(index - 1) } });
  const down = button(t("Move down"), "move-down", q, { extra: { position: String(index + 1) } });
  up.disabled = index === 0;
  down.disabled = index === count - 1;
  return el(
    "li",
    { class: "qa-card qa-card-compact", dataset: { question: String(q.id) } },
    el("p", { class: "qa-question-text", dir: "auto" }, q.text),
    el("p", { class: "qa-question-meta", dir: "auto" }, `${staffAuthor(q)} · ${votesLabel(q.votes)}`),
    el(
      "div",
      { class: "qa-button-row" },
      up,
      down,
      button(t("Unpin"), "unpin", q),
      button(t("Put on air"), "onair", q),
    ),
  );
}

function renderOnAirStrip() {
  const q = onAirQuestion(state);
  const strip = $("onair-strip");
  if (!q) {
    strip.replaceChildren(el("p", { class: "qa-empty" }, t("Nothing is on air.")));
    return;
  }
  strip.replaceChildren(
    questionBody(q, { author: staffAuthor(q) }),
    el(
      "div",
      { class: "qa-button-row" },
      button(t("Mark answered"), "answered", q),
      button(t("Take off air"), "offair", q),
    ),
  );
}

/** The language filter offers every language asked in so far (and keeps the one chosen). */
function renderLanguageFilter() {
  const select = $("language-filter");
  const tags = questionLanguages(state.questions);
  if (languageFilter != null && !tags.includes(languageFilter)) tags.push(languageFilter);
  const wanted = ["*", ...tags];
  const shown = [...select.options].map((option) => option.value);
  if (wanted.join("\n") === shown.join("\n")) return;
  const all = select.options[0];
  select.replaceChildren(
    all,
    ...tags.map((tag) => el("option", { value: tag, lang: tag || null }, languageLabel(tag))),
  );
  select.value = languageFilter ?? "*";
}

function renderTabs() {
  for (const name of TABS) {
    const count = name === "onair" ? (state.on_air == null ? 0 : 1) : tabQuestions(name).length;
    root.querySelector(`[data-count="${name}"]`).textContent = formatNumber(count);
    const tabButton = $(`tab-${name}`);
    tabButton.setAttribute("aria-selected", String(name === tab));
    tabButton.tabIndex = name === tab ? 0 : -1;
  }
  $("panel-list").setAttribute("aria-labelledby", `tab-${tab}`);
  $("list-heading").textContent = TAB_HEADINGS[tab]();
}

/** Re-render keeping focus on the same control of the same question. */
function render() {
  if (!state) return;
  const active = document.activeElement;
  const focusQuestion = active?.closest?.("[data-question]")?.dataset.question ?? null;
  const focusAction = active?.dataset?.action ?? null;
  const inList = active && $("panel-list").contains(active);

  renderLanguageFilter();
  renderTabs();
  renderOnAirStrip();
  const pinned = nextUp(state).length;
  const waiting = waitingNextUp(state);
  const showNextUp = (tab === "live" || tab === "onair") && waiting.length > 0;
  $("next-up").hidden = !showNextUp;
  $("next-up-list").replaceChildren(
    ...(showNextUp ? waiting.map(({ question, position }) => nextUpItem(question, position, pinned)) : []),
  );
  const list = tabQuestions(tab);
  if (selectedId !== null && !list.some((q) => q.id === selectedId)) selectedId = null;
  $("question-list").replaceChildren(...list.map(card));
  $("list-empty").hidden = list.length > 0;

  if (inList && focusQuestion) {
    const scope = $("panel-list");
    const target =
      (focusAction && scope.querySelector(`[data-question="${focusQuestion}"] [data-action="${focusAction}"]`)) ||
      scope.querySelector(`li[data-question="${focusQuestion}"]`);
    target?.focus({ preventScroll: true });
  }
  floorConsole?.render(state);
}

function renderRoom(room) {
  $("room-state-label").textContent = roomStateLabel(room.state);
  $("room-schedule").textContent = room.follows_schedule ? t("(following the schedule)") : t("(set by a moderator)");
  for (const b of root.querySelectorAll("[data-room-action]")) {
    const action = b.dataset.roomAction;
    b.disabled = action === "follow_schedule" ? room.follows_schedule : !ROOM_ACTIONS[action].includes(room.state);
  }
  $("premoderation").checked = Boolean(room.premoderation);
  for (const [id, value] of [["stage-url", room.stage_url], ["stream-url", room.stream_url]]) {
    const input = $(id);
    if (document.activeElement !== input) input.value = value ?? "";
  }
}

// ---- messages --------------------------------------------------------------------------

let noticeTimer = null;
let undoLast = null; // what the notice's Undo button does, while it shows

/** A toast; with `undo`, an Undo button that runs it (for as long as the toast shows). */
function notice(text, { undo = null } = {}) {
  $("alert").hidden = true;
  const box = $("notice");
  box.hidden = false;
  $("notice-text").textContent = text;
  undoLast = undo;
  $("notice-undo").hidden = !undo;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(
    () => {
      box.hidden = true;
      undoLast = null;
    },
    undo ? 10000 : 6000,
  );
}

function alertMessage(text) {
  $("notice").hidden = true;
  const box = $("alert");
  box.hidden = false;
  box.textContent = text;
}

// ---- commands --------------------------------------------------------------------------

function setState(next) {
  state = next;
  const room = live?.rooms.get(config.roomId);
  if (room?.state) room.state = next; // so the next event builds on what we show
  render();
}

/** Send a command for this room; null when it failed (the reason is shown). */
async function command(cmd, { wanted = null, done = null } = {}) {
  try {
    const reply = await live.send({ room: config.roomId, ...cmd });
    if (done) notice(done);
    $("alert").hidden = true;
    return reply ?? {};
  } catch (error) {
    const fresh = error.details?.question;
    if (fresh && typeof fresh === "object" && state) {
      // A conflict carries the question without its panelists: keep the ones we know.
      const { to, assigned_to: assigned, ...rest } = fresh;
      const view = error.code === "question.conflict" ? rest : fresh;
      setState({ ...state, questions: upsertQuestion(state.questions, view) });
      alertMessage(conflictMessage(questionById(state, fresh.id), wanted));
    } else if (error.code === "question.conflict") {
      alertMessage(t("Another moderator changed this first; the console now shows how it is."));
    } else {
      alertMessage(errorMessage(error));
    }
    return null;
  }
}

function ask(dialog, prepare) {
  return new Promise((resolve) => {
    const form = dialog.querySelector("form");
    form.reset();
    prepare?.(dialog);
    dialog.returnValue = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok" ? new FormData(form) : null), {
      once: true,
    });
    dialog.showModal();
  });
}

function fillPanelists(select, selectedKey = "") {
  const options = [el("option", { value: "" }, select.dataset.panelistSelect || t("(none)"))];
  for (const person of config.panelists) {
    const label = person.city && person.city !== person.name ? `${person.name} (${person.city})` : person.name;
    options.push(el("option", { value: person.key, selected: person.key === selectedKey }, label));
  }
  select.replaceChildren(...options);
}

const quote = (dialog, q) => {
  dialog.querySelector("[data-quote]").textContent = q.text;
};

const ACTIONS = {
  approve: (q) => command({ type: "question.approve", question: q.id }, { wanted: "approved", done: t("Approved.") }),
  async dismiss(q) {
    const form = await ask($("dismiss-dialog"), (d) => quote(d, q));
    if (!form) return null;
    const reason = String(form.get("reason") || "").trim() || null;
    const done = await command({ type: "question.dismiss", question: q.id, reason }, { wanted: "dismissed" });
    if (done) notice(t("Dismissed."), { undo: () => ACTIONS.restore(q) });
    return done;
  },
  restore: (q) => command({ type: "question.restore", question: q.id }, { done: t("Restored.") }),
  async edit(q) {
    const form = await ask($("edit-dialog"), () => {
      $("edit-text").value = q.text;
    });
    if (!form) return null;
    return command({ type: "question.edit", question: q.id, text: String(form.get("text")) }, { done: t("Saved.") });
  },
  async merge(q) {
    // The most similar first, and none chosen: the moderator picks the duplicate.
    const targets = closestFirst(
      q.text,
      [...withStatus(state, "pending"), ...openQuestions(state), ...answeredQuestions(state)].filter((t) => t.id !== q.id),
    );
    if (!targets.length) {
      notice(t("There is no other question to merge it into."));
      return null;
    }
    const form = await ask($("merge-dialog"), (d) => {
      quote(d, q);
      $("merge-into").replaceChildren(
        el("option", { value: "", selected: true, disabled: true }, t("Choose the question it repeats…")),
        ...targets.map((target) =>
          el(
            "option",
            { value: String(target.id) },
            `${shorten(target.text, 90)} (${questionStatusLabel(target.status).toLowerCase()}, ${votesLabel(target.votes)})`,
          ),
        ),
      );
    });
    if (!form) return null;
    return command(
      { type: "question.merge", question: q.id, into: Number(form.get("into")) },
      { wanted: "merged", done: t("Merged.") },
    );
  },
  onair: (q) =>
    command({ type: "question.put_on_air", question: q.id }, { wanted: "approved", done: t("On air: {text}", { text: shorten(q.text, 80) }) }),
  offair: () => command({ type: "question.put_on_air", question: null }, { done: t("Taken off air.") }),
  async answered(q) {
    let by = null;
    if (config.panelists.length) {
      const form = await ask($("answered-dialog"), () => fillPanelists($("answered-by"), q.assigned_to?.key ?? q.to?.key ?? ""));
      if (!form) return null;
      by = String(form.get("by") || "") || null;
    }
    return command({ type: "question.mark_answered", question: q.id, by }, { wanted: "answered", done: t("Marked answered.") });
  },
  archive: (q) => command({ type: "question.archive", question: q.id }, { wanted: "archived", done: t("Archived.") }),
  pin: (q) => command({ type: "question.pin", question: q.id, position: nextUp(state).length }, { done: t("Pinned to next up.") }),
  unpin: (q) => command({ type: "question.pin", question: q.id, position: null }, { done: t("Unpinned.") }),
  "move-up": (q, b) => move(q, Number(b.dataset.position)),
  "move-down": (q, b) => move(q, Number(b.dataset.position)),
  async assign(q) {
    const form = await ask($("assign-dialog"), () => fillPanelists($("assign-to"), q.assigned_to?.key ?? ""));
    if (!form) return null;
    const to = String(form.get("to") || "") || null;
    return command({ type: "question.assign", question: q.id, to }, { done: to ? t("Assigned.") : t("Unassigned.") });
  },
  async ban(q) {
    const form = await ask($("ban-dialog"), (d) => {
      d.querySelector("[data-participant]").textContent = q.participant;
      d.querySelector("[data-author]").textContent = q.anonymous ? `asked anonymously as ${q.author_name}` : q.author_name;
    });
    if (!form) return null;
    return command({ type: "participant.ban", participant: q.participant }, { done: t("Participant removed.") });
  },
};

function move(q, position) {
  const count = nextUp(state).length;
  if (position < 0 || position >= count) return null;
  return command({ type: "question.pin", question: q.id, position }, { done: t("Moved.") });
}

async function nextQuestion() {
  const current = state?.on_air ?? null;
  if (current !== null) {
    const answered = await command({ type: "question.mark_answered", question: current }, { wanted: "answered" });
    if (answered === null) return;
  }
  // The reply can come before its events: never pick the question just answered.
  const candidate = nextCandidate(state, [current]);
  if (!candidate) {
    notice(
      current !== null ? t("Marked answered; no approved question is waiting.") : t("No approved question to put on air."),
    );
    return;
  }
  await command(
    { type: "question.put_on_air", question: candidate.id },
    { wanted: "approved", done: t("On air: {text}", { text: shorten(candidate.text, 80) }) },
  );
}

function runAction(name, q, trigger = null) {
  const action = ACTIONS[name];
  if (!action || !q) return;
  selectedId = q.id;
  action(q, trigger);
}

// ---- selection and keyboard ------------------------------------------------------------

function select(id, { focus = true } = {}) {
  selectedId = id;
  render();
  const item = $("question-list").querySelector(`li[data-question="${id}"]`);
  if (item) {
    item.scrollIntoView({ block: "nearest" });
    if (focus) item.focus({ preventScroll: true });
  }
}

function moveSelection(delta) {
  const list = tabQuestions(tab);
  if (!list.length) return;
  const index = list.findIndex((q) => q.id === selectedId);
  const next = index < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, index + delta));
  select(list[next].id);
}

function selectedQuestion() {
  return selectedId === null ? null : questionById(state, selectedId);
}

function switchTab(name, { focus = false } = {}) {
  tab = name;
  render();
  if (focus) $(`tab-${name}`).focus();
}

function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.closest?.("input, textarea, select, [contenteditable]")) return;
  if (document.querySelector("dialog[open]") || !state) return;
  const q = selectedQuestion();
  const need = (statuses, verb) => {
    if (q && statuses.includes(q.status)) return true;
    notice(q ? verb(questionStatusLabel(q.status).toLowerCase()) : t("Select a question first (j / k)."));
    return false;
  };
  switch (event.key) {
    case "j":
      moveSelection(1);
      break;
    case "k":
      moveSelection(-1);
      break;
    case "a":
      if (need(["pending"], (status) => t("A {status} question cannot be approved.", { status }))) runAction("approve", q);
      break;
    case "d":
      if (need(["pending", "approved"], (status) => t("A {status} question cannot be dismissed.", { status }))) runAction("dismiss", q);
      break;
    case "o":
      if (need(["pending", "approved"], (status) => t("A {status} question cannot be put on air.", { status }))) runAction(q.id === state.on_air ? "offair" : "onair", q);
      break;
    case "n":
      nextQuestion();
      break;
    case "?":
      $("help-dialog").showModal();
      break;
    case "1":
    case "2":
    case "3":
    case "4":
    case "5":
      switchTab(TABS[Number(event.key) - 1]);
      break;
    default:
      return;
  }
  event.preventDefault();
}

// ---- wiring ----------------------------------------------------------------------------

function wire() {
  root.addEventListener("click", (event) => {
    const trigger = event.target.closest("[data-action]");
    if (trigger) {
      runAction(trigger.dataset.action, questionById(state, Number(trigger.dataset.question)), trigger);
      return;
    }
    const item = event.target.closest("#question-list li[data-question]");
    if (item && !event.target.closest("summary, a, button")) select(Number(item.dataset.question), { focus: false });
  });
  root.addEventListener(
    "toggle",
    (event) => {
      const details = event.target;
      if (!details.matches?.("details.qa-more")) return;
      const id = Number(details.dataset.question);
      if (details.open) openMore.add(id);
      else openMore.delete(id);
    },
    true,
  );
  $("language-filter").addEventListener("change", (event) => {
    languageFilter = event.target.value === "*" ? null : event.target.value;
    render();
  });
  const tablist = root.querySelector('[role="tablist"]');
  tablist.addEventListener("click", (event) => {
    const b = event.target.closest("[data-tab]");
    if (b) switchTab(b.dataset.tab);
  });
  tablist.addEventListener("keydown", (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    event.preventDefault();
    switchTab(TABS[(TABS.indexOf(tab) + step + TABS.length) % TABS.length], { focus: true });
  });
  document.addEventListener("keydown", onKey);
  $("alert").addEventListener("click", () => {
    $("alert").hidden = true;
  });
  $("next-button").addEventListener("click", nextQuestion);
  $("notice-undo").addEventListener("click", () => {
    const undo = undoLast;
    $("notice").hidden = true;
    undoLast = null;
    undo?.();
  });
  for (const b of root.querySelectorAll("[data-open-help]")) b.addEventListener("click", () => $("help-dialog").showModal());

  $("lifecycle").addEventListener("click", (event) => {
    const b = event.target.closest("[data-room-action]");
    if (b) command({ type: "room.set_state", action: b.dataset.roomAction }, { done: t("Room updated.") });
  });
  $("premoderation").addEventListener("change", (event) => {
    const on = event.target.checked;
    command({ type: "room.update", premoderation: on }, { done: on ? t("Pre-moderation is on.") : t("Pre-moderation is off.") });
  });
  $("stage-form").addEventListener("submit", (event) => {
    event.preventDefault();
    command(
      { type: "room.update", stage_url: $("stage-url").value.trim(), stream_url: $("stream-url").value.trim() },
      { done: t("Links saved.") },
    );
  });
  $("copy-screen").addEventListener("click", async () => {
    const input = $("screen-url");
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      input.select();
      document.execCommand("copy");
    }
    notice(t("Big-screen link copied."));
  });
  $("rotate-screen").addEventListener("click", async () => {
    if (!(await ask($("rotate-dialog")))) return;
    const response = await fetch(config.rotateUrl, { method: "POST", headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      alertMessage(body.error ? errorMessage(body.error) : t("The server answered {status}.", { status: response.status }));
      return;
    }
    $("screen-url").value = body.screen_url;
    $("open-screen").href = body.screen_url;
    notice(t("New big-screen link made; the old one no longer opens."));
  });
}

function connect() {
  const announce = createAnnouncer($("announce-polite"), null, { staff: true });
  live = followRoom({
    roomId: config.roomId,
    wsUrl: config.wsUrl,
    banner: $("connection-status"),
    onUpdate(next, { event }) {
      // Our own state, not the helper's: a lost race may have patched it (setState).
      const previous = event ? state : null;
      state = next;
      followPeople(state.people);
      if (!event) {
        renderRoom(state.room);
        render();
        return;
      }
      if (event.name.startsWith("room.")) renderRoom(state.room);
      else render();
      announce(previous, state);
    },
    onJoinError: (error) => alertMessage(joinFailed(error)),
  });
}

/** The panelists the dialogs and floor controls offer follow the room's people (a seat filled). */
function followPeople(people) {
  if (!people || JSON.stringify(people) === JSON.stringify(config.panelists)) return;
  config.panelists = people;
  floorConsole.setPanelists(people);
}

// ---- the floor and backstage (moderate_floor.js) --------------------------------------

syncServerClock(root);
const floorConsole = new FloorConsole({
  panelists: config.panelists,
  send: (cmd) => live.send({ room: config.roomId, ...cmd }),
  patch: (changes) => setState({ ...state, ...changes }),
  notice,
  alert: alertMessage,
  clock: (iso) => eventClockTime(iso, config.timeZone, config.zoneLabel),
});
startClocks(root);

wire();
connect();
