/**
 * The words the widget shows: presence statuses, room names, lists of names, why a
 * call ended. Plain functions, no DOM.
 * @module words
 */

/** Words for each presence status. */
export const STATUS_WORDS = { available: "Available", ringing: "On the phone", in_call: "In a call" };

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

/**
 * The words for a peer connection that never came up (`ERR_CONNECT_FAILED`).
 * @param {{name: string}|null} peer
 */
export function connectFailedMessage(peer) {
  return `Could not connect to ${peer?.name ?? "the other person"}. Try again, or check your network.`;
}

/** "1 second", "45 seconds", "2 minutes": a wait, rounded up. @param {number} seconds */
export function waitWords(seconds) {
  const s = Math.max(1, Math.ceil(seconds));
  if (s < 60) return s === 1 ? "1 second" : `${s} seconds`;
  const m = Math.ceil(s / 60);
  return m === 1 ? "1 minute" : `${m} minutes`;
}

/** Events that ring someone: refusing one for its rate limit stops the Call buttons. */
export const CALLING_EVENTS = new Set(["call.invite", "room.invite", "call.add"]);

/**
 * The words for a request refused for its rate limit (`ERR_RATE_LIMITED`): what
 * happened and when it can be done again.
 * @param {string|null} event  the refused request's event
 * @param {number} seconds  until it may be sent again
 */
export function rateLimitedMessage(event, seconds) {
  const wait = waitWords(seconds);
  if (CALLING_EVENTS.has(event)) return `You have called too many people in a short time. You can call again in ${wait}.`;
  if (event === "chat.send") return `You are sending messages too fast. You can send again in ${wait}.`;
  if (event === "room.join") return `You have joined too many times in a short time. You can join again in ${wait}.`;
  return `Too many requests in a short time. Try again in ${wait}.`;
}
