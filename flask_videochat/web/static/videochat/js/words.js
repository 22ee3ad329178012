/**
 * The words the widget shows: presence statuses, room names, lists of names, the
 * state of a call or room, why a call ended or a room was left, invitations. Plain
 * functions, no DOM. The words for error codes are in errors.js.
 * @module words
 */

/** Words for each presence status. */
export const STATUS_WORDS = { available: "Available", ringing: "Ringing…", in_call: "In a call", in_room: "In a room" };

/** The words naming a room: its name, or "the group call" for a call that grew. */
export function roomTitle(room) {
  if (!room) return "";
  return room.startsWith("call-") ? "the group call" : room;
}

/** "A", "A and B", "A, B and C". */
export function listWords(names) {
  if (names.length < 2) return names.join("");
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/**
 * The words shown when a call ends.
 * @param {{reason: string, peer: {name: string}|null, byMe: boolean, outgoing: boolean}} ended
 */
export function endMessage({ reason, peer, byMe, outgoing }) {
  const name = peer?.name ?? "The other person";
  switch (reason) {
    case "declined": // on the callee's side: declined in another tab
      return outgoing ? `${name} declined the call.` : "You declined the call.";
    case "declined-by-me":
      return "You declined the call.";
    case "busy":
      return `${name} is busy.`;
    case "no_answer":
      return outgoing ? `${name} did not answer.` : `Missed call from ${name}.`;
    case "cancelled":
      return outgoing ? "Call cancelled." : `${name} cancelled the call.`;
    case "cancelled-by-me":
      return "Call cancelled.";
    case "hangup":
      return byMe ? "Call ended." : `Call ended: ${name} hung up.`;
    case "peer_disconnected":
      return `${name} lost the connection. Call ended.`;
    case "answered_elsewhere":
      return "Answered in another tab.";
    case "refused": // the error alert says why
      return "";
    case "connect_failed": // the error alert says it, with its code
      return "";
    case "connection_lost":
      return "Your connection was lost, so the call was cancelled.";
    default:
      return "Call ended.";
  }
}

/** "1 second", "45 seconds", "2 minutes": a wait, rounded up. @param {number} seconds */
export function waitWords(seconds) {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return s === 1 ? "1 second" : `${s} seconds`;
  const m = Math.ceil(s / 60);
  return m === 1 ? "1 minute" : `${m} minutes`;
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
      return lastMessage || (roomMode ? "Ready to join? Check your camera, then join." : "Ready. Pick someone to call.");
    case "calling":
      return `Calling ${name}…`;
    case "ringing":
      return `Ringing ${name}…`;
    case "incoming":
      return `${name} is calling…`;
    case "connecting":
      return `Connecting to ${name}…`;
    case "in-call":
      return `In call with ${name}`;
    case "joining":
      return `Joining ${roomTitle(room)}…`;
    case "in-room":
      return others.length ? `In ${roomTitle(room)} with ${listWords(others)}` : `Waiting for others to join ${roomTitle(room)}…`;
    default:
      return "";
  }
}

/** The page title while a call rings: "NAME is calling…". @param {string} name */
export function ringingTitle(name) {
  return `${name} is calling…`;
}

/**
 * What the incoming panel says after the caller's name.
 * @param {{members: number}|null} invite  an invitation into a room, or null for a 1:1 call
 */
export function incomingWords(invite) {
  if (!invite) return " is calling…";
  return ` invites you to a call with ${invite.members} ${invite.members === 1 ? "person" : "people"}…`;
}

/** The status line while an invitation into a room rings. @param {{from: {name: string}}} invite */
export function inviteWords(invite) {
  return `${invite.from.name} invites you to a call…`;
}

/**
 * The words shown when you are out of a room.
 * @param {{reason: string, byMe: boolean}} left
 */
export function leftMessage({ reason, byMe }) {
  switch (reason) {
    case "joined_elsewhere":
      return "You joined from another tab.";
    case "connection_lost":
      return "Connection lost. You will rejoin the room when it is back…";
    default:
      return byMe ? "You left the room." : "You are no longer in the room.";
  }
}

/**
 * The note after the status while you ring someone into your call or room.
 * @param {string} name  whom you ring
 * @param {{state: string}} result  the server's answer (`state` "ended": they are busy)
 */
export function ringingNote(name, result) {
  return result.state === "ended" ? `${name} is busy.` : `Ringing ${name}…`;
}

/**
 * The note after the status when an invitation you sent ended ("" when there is
 * nothing to say).
 * @param {string} name  whom you invited
 * @param {string} reason  `declined`, `no_answer`, `busy`...
 */
export function inviteEndedNote(name, reason) {
  const words = { declined: `${name} declined.`, no_answer: `${name} did not answer.`, busy: `${name} is busy.` };
  return words[reason] ?? "";
}

/** The message when an invitation to you rang out unanswered. */
export const MISSED_INVITATION = "You missed an invitation to a call.";

/** The room's layout toggle: each layout's words (`text` on the button, `label` for screen readers). */
export const LAYOUT_WORDS = Object.freeze({
  grid: Object.freeze({ text: "Grid", label: "Grid view: everyone the same size" }),
  speaker: Object.freeze({ text: "Speaker", label: "Speaker view: who speaks is big" }),
});

/** A pin button's label: "Pin Ada", or "Unpin Ada" while Ada is pinned. */
export function pinWords(name, pinned) {
  return pinned ? `Unpin ${name}` : `Pin ${name}`;
}

/** A volume slider's label. @param {string} name */
export function volumeWords(name) {
  return `Volume of ${name}`;
}

/**
 * What a person sends, in words for screen readers (icons show it on screen).
 * @param {{mic: boolean, cam: boolean, screen?: boolean}} media
 * @returns {{mic: string, cam: string}}  `cam` says "Presenting" while they share a screen
 */
export function mediaWords({ mic, cam, screen = false }) {
  return { mic: mic ? "Microphone on" : "Muted", cam: screen ? "Presenting" : cam ? "Camera on" : "Camera off" };
}
/**
 * Why the Call button of someone the host does not let you call is disabled
 * (presence said `callable: false`). @param {string} name
 */
export function forbiddenCallWords(name) {
  return `You are not allowed to call ${name}.`;
}

