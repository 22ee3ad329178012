/**
 * The error codes the widget reports (the `code` of `videochat-error`, of a
 * controller's `error` event and of a `SignalingError`) as named constants, and the
 * words shown for them. The server's codes are `ErrorCode` in
 * `flask_videochat/core/protocol.py` (docs/protocol.md); the others are raised in
 * the browser.
 * @module errors
 */

import { currentLanguage, t, wordTable } from "./i18n.js";
import { waitWords } from "./words.js";

// -- sent by the server ------------------------------------------------------------

export const ERR_INVALID_PAYLOAD = "ERR_INVALID_PAYLOAD";
export const ERR_TOO_LARGE = "ERR_TOO_LARGE";
export const ERR_UNKNOWN_EVENT = "ERR_UNKNOWN_EVENT";
export const ERR_CALL_NOT_FOUND = "ERR_CALL_NOT_FOUND";
export const ERR_INVALID_STATE = "ERR_INVALID_STATE";
export const ERR_ALREADY_IN_CALL = "ERR_ALREADY_IN_CALL";
export const ERR_SELF_CALL = "ERR_SELF_CALL";
export const ERR_USER_OFFLINE = "ERR_USER_OFFLINE";
export const ERR_FORBIDDEN = "ERR_FORBIDDEN";
export const ERR_ROOM_FULL = "ERR_ROOM_FULL";
export const ERR_NOT_IN_ROOM = "ERR_NOT_IN_ROOM";
export const ERR_UNAUTHENTICATED = "ERR_UNAUTHENTICATED";
export const ERR_FORBIDDEN_ORIGIN = "ERR_FORBIDDEN_ORIGIN";
/** Over a rate limit: the error carries `retryAfter` (seconds) and `event`. */
export const ERR_RATE_LIMITED = "ERR_RATE_LIMITED";
export const ERR_INTERNAL = "ERR_INTERNAL";

/** Every code the server sends (the values of its `ErrorCode`). */
export const SERVER_ERRORS = Object.freeze([
  ERR_INVALID_PAYLOAD, ERR_TOO_LARGE, ERR_UNKNOWN_EVENT, ERR_CALL_NOT_FOUND, ERR_INVALID_STATE,
  ERR_ALREADY_IN_CALL, ERR_SELF_CALL, ERR_USER_OFFLINE, ERR_FORBIDDEN, ERR_ROOM_FULL, ERR_NOT_IN_ROOM,
  ERR_UNAUTHENTICATED, ERR_FORBIDDEN_ORIGIN, ERR_RATE_LIMITED, ERR_INTERNAL,
]);

// -- raised in the browser ---------------------------------------------------------

/** A request made while the signaling connection is down; nothing was sent. */
export const ERR_OFFLINE = "ERR_OFFLINE";
/** The server did not acknowledge a request in time. */
export const ERR_TIMEOUT = "ERR_TIMEOUT";
/** The server answered with something that is not an acknowledgement. */
export const ERR_PROTOCOL = "ERR_PROTOCOL";
/** A description or candidate could not be applied to the peer connection. */
export const ERR_NEGOTIATION = "ERR_NEGOTIATION";
/** The peer connection did not come up in time, an ICE restart included. */
export const ERR_CONNECT_FAILED = "ERR_CONNECT_FAILED";
export const ERR_PERMISSION_DENIED = "ERR_PERMISSION_DENIED";
export const ERR_CAMERA_DENIED = "ERR_CAMERA_DENIED";
export const ERR_MICROPHONE_DENIED = "ERR_MICROPHONE_DENIED";
export const ERR_NO_DEVICE = "ERR_NO_DEVICE";
export const ERR_DEVICE_IN_USE = "ERR_DEVICE_IN_USE";
export const ERR_OVERCONSTRAINED = "ERR_OVERCONSTRAINED";
export const ERR_CAMERA_UNAVAILABLE = "ERR_CAMERA_UNAVAILABLE";
export const ERR_MICROPHONE_UNAVAILABLE = "ERR_MICROPHONE_UNAVAILABLE";
export const ERR_INSECURE_CONTEXT = "ERR_INSECURE_CONTEXT";
export const ERR_SCREEN_DENIED = "ERR_SCREEN_DENIED";
export const ERR_SCREEN_UNAVAILABLE = "ERR_SCREEN_UNAVAILABLE";
export const ERR_DEVICE_SWITCH = "ERR_DEVICE_SWITCH";
/** getUserMedia failed for another reason. */
export const ERR_MEDIA = "ERR_MEDIA";

// -- words -------------------------------------------------------------------------

/** The words for the codes the browser raises with fixed words (the server's codes
 * come with the server's words), read in the language in use (i18n.js). */
export const ERROR_WORDS = wordTable(Object.fromEntries([
  ERR_PERMISSION_DENIED, ERR_CAMERA_DENIED, ERR_MICROPHONE_DENIED, ERR_NO_DEVICE, ERR_DEVICE_IN_USE,
  ERR_OVERCONSTRAINED, ERR_CAMERA_UNAVAILABLE, ERR_MICROPHONE_UNAVAILABLE, ERR_INSECURE_CONTEXT,
  ERR_SCREEN_DENIED, ERR_SCREEN_UNAVAILABLE, ERR_DEVICE_SWITCH, ERR_MEDIA, ERR_OFFLINE, ERR_TIMEOUT,
  ERR_PROTOCOL, ERR_ALREADY_IN_CALL,
].map((code) => [code, `error.${code}`])));

/**
 * An error as `{code, message}` with the words of {@link ERROR_WORDS}.
 * @param {string} code
 * @returns {{code: string, message: string}}
 */
export function errorOf(code) {
  return { code, message: ERROR_WORDS[code] };
}

/**
 * The words for a peer connection that never came up ({@link ERR_CONNECT_FAILED}).
 * @param {{name: string}|null} peer
 */
export function connectFailedMessage(peer) {
  return peer?.name ? t("error.connect_failed", { name: peer.name }) : t("error.connect_failed_unknown");
}

/**
 * The words for a server's error: in English the server's own `message` (which may
 * say more, e.g. the room's capacity); in another language the catalogue's words for
 * its `code` (`error.<code>`), else the server's message.
 * @param {string|undefined} code
 * @param {string|undefined} message
 * @returns {string|undefined}
 */
export function serverMessage(code, message) {
  if (currentLanguage().split("-")[0] === "en" && message) return message;
  const words = t(`error.${code}`);
  return words === `error.${code}` ? message : words;
}

/** Events that ring someone: refusing one for its rate limit stops the Call buttons. */
export const CALLING_EVENTS = new Set(["call.invite", "room.invite", "call.add"]);

/**
 * The words for a request refused for its rate limit ({@link ERR_RATE_LIMITED}):
 * what happened and when it can be done again.
 * @param {string|null} event  the refused request's event
 * @param {number} seconds  until it may be sent again
 */
export function rateLimitedMessage(event, seconds) {
  const wait = waitWords(seconds);
  if (CALLING_EVENTS.has(event)) return t("error.rate_calls", { wait });
  if (event === "chat.send") return t("error.rate_chat", { wait });
  if (event === "room.join") return t("error.rate_join", { wait });
  return t("error.rate_other", { wait });
}
