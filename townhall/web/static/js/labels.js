// The interface's words in the browser, and the one entry point to the gettext catalogue the
// page carries (templates/_labels.html, built from townhall/web/locale/*/messages.po). Every
// module takes its words from here: the room states, the connection line and the server's
// error codes read the same on every page, in the page's language.
//
// Messages are extracted from the calls to t() and tn() (babel.cfg), so their first arguments
// are always plain string literals; "{name}" placeholders are filled from `values`.

function readCatalogue() {
  if (typeof document === "undefined") return {}; // Node (the reducer tests): English
  const block = document.getElementById("townhall-labels");
  try {
    return block ? JSON.parse(block.textContent) : {};
  } catch {
    return {};
  }
}

const catalogue = readCatalogue();

export const language = (typeof document !== "undefined" && document.documentElement.lang) || "en";

// gettext's plural index for each CLDR category, where the catalogue's Plural-Forms differ
// from English's "one, other" (French has a third form for millions).
const PLURAL_INDEX = { fr: { one: 0, many: 1, other: 2 } };
const pluralRules = new Intl.PluralRules(language);

function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** The message in the page's language, its "{placeholders}" filled. */
export function t(message, values = {}) {
  const translated = catalogue[message];
  return fill(typeof translated === "string" ? translated : message, values);
}

/** A message with a count: the plural form the language wants; "{count}" is the number. */
export function tn(singular, plural, count, values = {}) {
  const forms = catalogue[singular];
  const category = pluralRules.select(count);
  let text = category === "one" ? singular : plural;
  if (Array.isArray(forms) && forms.length) {
    const index = (PLURAL_INDEX[language] ?? { one: 0 })[category] ?? forms.length - 1;
    text = forms[Math.min(index, forms.length - 1)];
  }
  return fill(text, { count: formatNumber(count), ...values });
}

// ---- numbers, dates and times (always with the zone named) ----------------------------

export function formatNumber(value) {
  return new Intl.NumberFormat(language).format(value ?? 0);
}

/** "16:00" in a zone (the viewer's when none is given). */
export function clockTime(iso, timeZone = undefined) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(language, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone }).format(
    new Date(iso),
  );
}

/** "UTC+1", "UTC-5", "UTC+5:30", "UTC" for an instant in a zone (the viewer's by default). */
export function utcOffset(instant, timeZone = undefined) {
  const part = new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "shortOffset" })
    .formatToParts(new Date(instant))
    .find((p) => p.type === "timeZoneName");
  const name = (part ? part.value : "GMT").replace(/^(GMT|UTC)([+-]0+)?$/, "GMT");
  return name === "GMT" ? "UTC" : name.replace("GMT", "UTC");
}

/** "16:00 (UTC+3)": a clock time that names its zone. */
export function clockTimeWithZone(iso, timeZone = undefined) {
  if (!iso) return "";
  return `${clockTime(iso, timeZone)} (${utcOffset(iso, timeZone)})`;
}

/** "16:00 (Izmir)": a clock time in the event's zone, named as the programme names it (as the
 * organizer console and the server-rendered pages do). */
export function eventClockTime(iso, timeZone, zoneLabel) {
  if (!iso) return "";
  return `${clockTime(iso, timeZone)} (${zoneLabel})`;
}

/**
 * A session's span in the viewer's own zone, "08:00–09:30 (UTC-5, America/Toronto)"; null when
 * the viewer's clock reads as the event's (the event's own line says it already).
 */
export function viewerSpan(startsAt, endsAt, eventZone) {
  if (!startsAt || !endsAt || utcOffset(startsAt) === utcOffset(startsAt, eventZone)) return null;
  const offset = utcOffset(startsAt);
  const viewerZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const zone = viewerZone && viewerZone !== "UTC" && viewerZone !== offset ? `${offset}, ${viewerZone}` : offset;
  return `${clockTime(startsAt)}–${clockTime(endsAt)} (${zone})`;
}

/** "Wednesday 8 December 2021" in the page's language. */
export function longDay(iso, timeZone = undefined) {
  return new Intl.DateTimeFormat(language, { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone })
    .format(new Date(iso))
    .replace(",", "");
}

// ---- shared words ----------------------------------------------------------------------

/** A live room's state, as every page names it. */
export function roomStateLabel(state) {
  return (
    {
      scheduled: t("Scheduled"),
      open: t("Lobby open"),
      live: t("Live now"),
      ended: t("Ended"),
      archived: t("Archived"),
    }[state] ?? state
  );
}

/** The sentence under a room's state (townhall/web/room_pages.py:state_detail says the same). */
export function roomStateDetail(room, timeZone, zoneLabel) {
  const at = (iso) => ({ time: clockTime(iso, timeZone), zone: zoneLabel });
  switch (room.state) {
    case "scheduled":
      return room.opens_at ? t("The room opens at {time} {zone} time.", at(room.opens_at)) : t("The time is to be announced.");
    case "open":
      return room.session.starts_at
        ? t("The lobby is open; the session starts at {time} {zone} time.", at(room.session.starts_at))
        : t("The lobby is open.");
    case "live":
      return t("The session is under way.");
    case "ended":
      return t("The session has ended.");
    default:
      return t("This room is archived.");
  }
}

/** A question's status, as the moderators' badges name it. */
export function questionStatusLabel(status) {
  return (
    {
      pending: t("Pending"),
      approved: t("Approved"),
      answered: t("Answered"),
      dismissed: t("Dismissed"),
      archived: t("Archived"),
      merged: t("Merged"),
    }[status] ?? status
  );
}

/** The connection line every live page shows. */
export function connectionText(state, reason = "") {
  switch (state) {
    case "connecting":
      return t("Connecting…");
    case "reconnecting":
      return t("Reconnecting…");
    case "offline":
      return t("You are offline. Reconnecting when the network is back…");
    case "stopped":
      return reason ? t("Disconnected: {reason}", { reason }) : t("Disconnected.");
    case "live":
      return t("Connected — updates appear as they happen.");
    default:
      return state;
  }
}

// Server error codes (stable, English messages on the wire) in the page's language.
const ERRORS = {
  "auth.required": () => t("Join the event first."),
  forbidden: () => t("You may not do this."),
  "room.forbidden": () => t("You may not enter this room."),
  "room.not_found": () => t("This room does not exist."),
  "room.not_joined": () => t("Not in the room yet: try again in a moment."),
  "room.invalid_url": () => t("This link is not a valid https:// address."),
  "room.invalid_transition": () => t("The room cannot change to that state now."),
  "room.conflict": () => t("Another moderator changed the room first."),
  "question.not_found": () => t("This question is no longer there."),
  "question.conflict": () => t("Another moderator changed this question first."),
  "question.invalid_transition": () => t("This question cannot change that way now."),
  "question.merge_self": () => t("A question cannot be merged into itself."),
  "participant.banned": () => t("You have been removed from this event."),
  "participant.ban_staff": () => t("Staff cannot be removed: revoke their invitation instead."),
  "participant.ban_self": () => t("You cannot remove yourself."),
  "participant.ban_scope": () =>
    t("You can remove only people who joined one of your rooms: ask an organizer."),
  "participant.invalid_name": () => t("This name cannot be used: choose another."),
  "participant.name_too_long": () => t("This name is too long."),
  "participant.access_code": () => t("This event needs its access code."),
  "event.invalid_access_code": () => t("This access code is not right."),
  "floor.panel_only": () => t("Only the session's panelists can ask for the floor."),
  "floor.moderators_add": () => t("Moderators add panelists to the list of speakers."),
  "floor.room_closed": () => t("The floor opens when the room does."),
  "floor.duplicate": () => t("This panelist is already on the list of speakers."),
  "floor.nobody_speaking": () => t("Nobody has the floor."),
  "floor.reply_to_self": () => t("You cannot reply to yourself."),
  "floor.not_yours": () => t("This request is not yours."),
  "floor.not_found": () => t("This request is no longer on the list."),
  "floor.withdrawn": () => t("This request was withdrawn."),
  "floor.removed": () => t("This request was removed from the list."),
  "floor.speaking": () => t("This speaker already has the floor."),
  "floor.spoke": () => t("This speaker has already spoken."),
  "floor.closed": () => t("The list of speakers was closed."),
  "floor.unknown_panelist": () => t("This person is not on the session's panel."),
  "floor.bad_order": () => t("The list of speakers changed; try again."),
  "floor.queue_empty": () => t("Nobody is waiting for the floor."),
  "floor.invalid_limit": () => t("A turn lasts between 10 seconds and 4 hours."),
  "floor.conflict": () => t("Another moderator changed the list of speakers first; here it is now."),
  "backstage.forbidden": () => t("Backstage is for the moderators and the panel."),
  "backstage.moderators_only": () => t("Only moderators write to one panelist."),
  "backstage.empty": () => t("Write a message first."),
  "backstage.too_long": () => t("This message is too long."),
  "backstage.invalid_characters": () => t("This message contains characters that cannot be sent."),
  "backstage.unknown_panelist": () => t("This person is not on the session's panel."),
  "backstage.not_joined": () => t("This panelist has not opened their invitation yet."),
  "backstage.room_archived": () => t("This room is archived."),
  rate_limited: () => t("Too many actions at once: try again in a moment."),
  unavailable: () => t("The service is unavailable; try again later."),
  "message.too_large": () => t("This message is too large."),
  "connection.offline": () => t("Not connected; try again shortly."),
  "connection.timeout": () => t("The server did not answer in time."),
  "connection.lost": () => t("The connection was lost."),
};

/** What to tell someone about a server error (a LiveError or an HTTP error body's `error`). */
export function errorMessage(error) {
  const known = error && ERRORS[error.code];
  if (known) return known();
  return error?.message || t("Something went wrong.");
}
