/**
 * The words the widget shows: presence statuses, room names, lists of names, the
 * state of a call or room, why a call ended or a room was left, invitations. Plain
 * functions, no DOM. The words for error codes are in errors.js. The texts are
 * the catalogue's (catalogue.js), in the language in use (i18n.js).
 * @module words
 */

import { t, tn, wordTable } from "./i18n.js";

/** Words for each presence status (read in the language in use, i18n.js). */
export const STATUS_WORDS = wordTable({ available: "status.available", ringing: "status.ringing", in_call: "status.in_call", in_room: "status.in_room" });

/** The words naming a room: its name, or "the group call" for a call that grew. */
export function roomTitle(room) {
  if (!room) return "";
  return room.startsWith("call-") ? t("room.group_call") : room;
}

/** "A", "A and B", "A, B and C". */
export function listWords(names) {
  if (names.length < 2) return names.join("");
  return t("list.and", { first: names.slice(0, -1).join(", "), last: names[names.length - 1] });
}

/**
 * The words shown when a call ends.
 * @param {{reason: string, peer: {name: string}|null, byMe: boolean, outgoing: boolean}} ended
 */
export function endMessage({ reason, peer, byMe, outgoing }) {
  const name = peer?.name ?? t("end.peer_unknown");
  switch (reason) {
    case "declined": // on the callee's side: declined in another tab
      return outgoing ? t("end.declined_by_peer", { name }) : t("end.declined_by_me");
    case "declined-by-me":
      return t("end.declined_by_me");
    case "busy":
      return t("end.busy", { name });
    case "no_answer":
      return outgoing ? t("end.no_answer", { name }) : t("end.missed", { name });
    case "cancelled":
      return outgoing ? t("end.cancelled_by_me") : t("end.cancelled_by_peer", { name });
    case "cancelled-by-me":
      return t("end.cancelled_by_me");
    case "hangup":
      return byMe ? t("end.ended") : t("end.hung_up", { name });
    case "peer_disconnected":
      return t("end.peer_disconnected", { name });
    case "answered_elsewhere":
      return t("end.answered_elsewhere");
    case "refused": // the error alert says why
      return "";
    case "connect_failed": // the error alert says it, with its code
      return "";
    case "connection_lost":
      return t("end.connection_lost");
    default:
      return t("end.ended");
  }
}

/** "1 second", "45 seconds", "2 minutes": a wait, rounded up. @param {number} seconds */
export function waitWords(seconds) {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return tn("wait.seconds", s);
  return tn("wait.minutes", Math.ceil(s / 60));
}

/**
 * The status line: what is going on, in a sentence.
 * @param {string} state  the widget's state ("idle", "calling", ..., "joining", "in-room")
 * @param {object} about
 * @param {string} about.name  the other person of the call ("" without one)
 * @param {string|null} about.room  the room's name
 * @param {string[]} about.others  the names of the others in the room
 * @param {string} about.lastMessage  what happened last (why a call ended...), shown while idle
 * @param {boolean} about.roomMode  whether the widget shows one room's lobby
 */
export function stateWords(state, { name, room, others, lastMessage, roomMode }) {
  switch (state) {
    case "idle":
      return lastMessage || (roomMode ? t("state.ready_room") : t("state.ready"));
    case "calling":
      return t("state.calling", { name });
    case "ringing":
      return t("state.ringing", { name });
    case "incoming":
      return t("state.incoming", { name });
    case "connecting":
      return t("state.connecting", { name });
    case "in-call":
      return t("state.in_call", { name });
    case "joining":
      return t("state.joining", { room: roomTitle(room) });
    case "in-room":
      return others.length ? t("state.in_room", { room: roomTitle(room), others: listWords(others) }) : t("state.waiting", { room: roomTitle(room) });
    default:
      return "";
  }
}

/** The page title while a call rings: "NAME is calling…". @param {string} name */
export function ringingTitle(name) {
  return t("state.incoming", { name });
}

/**
 * What the incoming panel says after the caller's name.
 * @param {{members: number}|null} invite  an invitation into a room, or null for a 1:1 call
 */
export function incomingWords(invite) {
  if (!invite) return ` ${t("ring.is_calling")}`;
  return ` ${tn("ring.invites", invite.members)}`;
}

/** The status line while an invitation into a room rings. @param {{from: {name: string}}} invite */
export function inviteWords(invite) {
  return t("ring.invite_status", { name: invite.from.name });
}

/**
 * The words shown when you are out of a room.
 * @param {{reason: string, byMe: boolean}} left
 */
export function leftMessage({ reason, byMe }) {
  switch (reason) {
    case "joined_elsewhere":
      return t("left.joined_elsewhere");
    case "connection_lost":
      return t("left.connection_lost");
    default:
      return byMe ? t("left.by_me") : t("left.removed");
  }
}

/**
 * The note after the status while you ring someone into your call or room.
 * @param {string} name  whom you ring
 * @param {{state: string}} result  the server's answer (`state` "ended": they are busy)
 */
export function ringingNote(name, result) {
  return result.state === "ended" ? t("end.busy", { name }) : t("state.ringing", { name });
}

/**
 * The note after the status when an invitation you sent ended ("" when there is
 * nothing to say).
 * @param {string} name  whom you invited
 * @param {string} reason  `declined`, `no_answer`, `busy`...
 */
export function inviteEndedNote(name, reason) {
  const keys = { declined: "invite.declined", no_answer: "end.no_answer", busy: "end.busy" };
  return keys[reason] ? t(keys[reason], { name }) : "";
}

/** The message when an invitation to you rang out unanswered. */
export function missedInvitation() {
  return t("invite.missed");
}

/** The room's layout toggle: each layout's words (`text` on the button, `label` for screen readers). */
export const LAYOUT_WORDS = Object.freeze({
  grid: wordTable({ text: "layout.grid", label: "layout.grid_label" }),
  speaker: wordTable({ text: "layout.speaker", label: "layout.speaker_label" }),
});

/** A pin button's label: "Pin Ada", or "Unpin Ada" while Ada is pinned. */
export function pinWords(name, pinned) {
  return pinned ? t("member.unpin", { name }) : t("member.pin", { name });
}

/** A volume slider's label. @param {string} name */
export function volumeWords(name) {
  return t("member.volume", { name });
}

/**
 * What a person sends, in words for screen readers (icons show it on screen).
 * @param {{mic: boolean, cam: boolean, screen?: boolean}} media
 * @returns {{mic: string, cam: string}}  `cam` says "Presenting" while they share a screen
 */
export function mediaWords({ mic, cam, screen = false }) {
  return { mic: t(mic ? "media.mic_on" : "media.muted"), cam: t(screen ? "media.presenting" : cam ? "media.camera_on" : "media.camera_off") };
}
/**
 * Why the Call button of someone the host does not let you call is disabled
 * (presence said `callable: false`). @param {string} name
 */
export function forbiddenCallWords(name) {
  return t("call.forbidden", { name });
}

