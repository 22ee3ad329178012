/**
 * The Socket.IO connection to the server's `/videochat` namespace: the only module
 * that calls `io()`. Turns server events into DOM events and client requests into
 * acknowledged emits (docs/protocol.md).
 * @module signaling
 */

import { io } from "../vendor/socket.io.esm.min.js";
import { ERR_OFFLINE, ERR_PROTOCOL, ERR_TIMEOUT, ERROR_WORDS, serverMessage } from "./errors.js";

/** Milliseconds to wait for the server's acknowledgement of a request. */
export const ACK_TIMEOUT_MS = 10000;
/** First and longest wait between reconnection attempts, in milliseconds. */
export const RECONNECT_DELAY_MS = 300;
export const RECONNECT_DELAY_MAX_MS = 2000;
/** Milliseconds a probe of the connection may wait for its answer. */
export const PROBE_TIMEOUT_MS = 2000;

/** Server-to-client events re-dispatched as DOM events of the same name. */
export const SERVER_EVENTS = [
  "hello",
  "presence.snapshot",
  "presence.changes",
  "call.incoming",
  "call.accepted",
  "call.ended",
  "signal",
  "call.upgraded",
  "call.media",
  "call.resumed",
  "room.member_joined",
  "room.member_left",
  "room.left",
  "room.signal",
  "room.media",
  "room.invite",
  "room.invite_ended",
  "chat.message",
];

/**
 * A signaling error with a stable code (`ERR_*`) and words for a person.
 */
export class SignalingError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {{retryAfter?: number|null, event?: string|null}} [options]  `retryAfter`:
   *   seconds until a refused request may be sent again (`ERR_RATE_LIMITED`);
   *   `event`: the request's event
   */
  constructor(code, message, { retryAfter = null, event = null } = {}) {
    super(message);
    this.name = "SignalingError";
    this.code = code;
    /** Seconds to wait before sending again, or null. */
    this.retryAfter = retryAfter;
    /** The request's event (`call.invite`...), or null. */
    this.event = event;
  }
}

/**
 * @fires Signaling#hello, #presence.snapshot, ... (every name in SERVER_EVENTS), detail: the payload
 * @fires Signaling#connect
 * @fires Signaling#disconnect  detail: {reason}
 * @fires Signaling#refused     detail: {code, message} (the server refused us: not signed in)
 * @fires Signaling#close
 */
export class Signaling extends EventTarget {
  /**
   * @param {object} options
   * @param {string} options.namespace  the namespace URL, e.g. "/videochat"
   * @param {string} [options.path]     the Socket.IO path, e.g. "/socket.io"
   */
  constructor({ namespace, path = "/socket.io" }) {
    super();
    /** The connection (Socket.IO id) the numbers count for, and the last number. */
    this._seqOf = null;
    this._seq = 0;
    this._socket = io(namespace, {
      path,
      transports: ["websocket", "polling"],
      tryAllTransports: true,
      // Come back quickly after a blip or a server restart (default: up to 5 s).
      reconnectionDelay: RECONNECT_DELAY_MS,
      reconnectionDelayMax: RECONNECT_DELAY_MAX_MS,
    });
    for (const name of SERVER_EVENTS) {
      this._socket.on(name, (payload) => this.dispatchEvent(new CustomEvent(name, { detail: payload })));
    }
    this._socket.on("connect", () => this.dispatchEvent(new Event("connect")));
    this._socket.on("disconnect", (reason) => {
      // Emits the client buffered because the connection was already dying (its
      // ping deadline passed) were numbered for this connection: sent on the next
      // one, their seq would be out of place there. Their requests fail
      // (ERR_TIMEOUT); what they carried is sent again after the reconnect.
      this._socket.sendBuffer.length = 0;
      this.dispatchEvent(new CustomEvent("disconnect", { detail: { reason } }));
    });
    this._socket.on("connect_error", (err) => {
      if (err?.data?.code) {
        // Refused by the server (not a network failure): retrying would not help.
        this._socket.disconnect();
        this.dispatchEvent(new CustomEvent("refused", { detail: { code: err.data.code, message: err.data.message } }));
      }
    });
  }

  /** Whether the socket is connected now. */
  get connected() {
    return this._socket.connected;
  }

  /**
   * Emit `event` and wait for the acknowledgement.
   * @param {string} event
   * @param {object} payload
   * @returns {Promise<object>} the ack fields on `{ok: true}`
   * @throws {SignalingError} on `{ok: false}` (its code) or no answer (`ERR_TIMEOUT`)
   */
  async request(event, payload) {
    const socket = this._socket;
    if (!socket?.connected) throw new SignalingError(ERR_OFFLINE, ERROR_WORDS[ERR_OFFLINE], { event });
    let ack;
    try {
      ack = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, this._numbered(payload));
    } catch {
      throw new SignalingError(ERR_TIMEOUT, ERROR_WORDS[ERR_TIMEOUT], { event });
    }
    if (!ack || ack.ok !== true) {
      const error = ack?.error ?? {};
      throw new SignalingError(error.code ?? ERR_PROTOCOL, serverMessage(error.code, error.message) ?? ERROR_WORDS[ERR_PROTOCOL], {
        retryAfter: typeof error.retry_after === "number" ? error.retry_after : null,
        event,
      });
    }
    return ack;
  }

  /**
   * `payload` with the next `seq` of this connection (1, 2, 3... from each
   * connect): the server handles a connection's events in that order
   * (docs/protocol.md, "Order"). Called right before the emit, only while
   * connected, so that no number is skipped or sent on another connection (the
   * Socket.IO client would otherwise buffer an emit and send it after a reconnect).
   * @param {object} payload
   * @returns {object}
   */
  _numbered(payload) {
    const id = this._socket.id;
    if (this._seqOf !== id) {
      this._seqOf = id;
      this._seq = 0;
    }
    this._seq += 1;
    return { ...payload, seq: this._seq };
  }

  /**
   * Check that the connection still answers (`ping`); when it does not within
   * `timeoutMs`, drop it so that the client reconnects now rather than after the
   * Engine.IO ping timeout (tens of seconds on a network that silently changed).
   * One probe at a time.
   * @param {number} [timeoutMs]
   * @returns {Promise<boolean>} whether the connection answered
   */
  async probe(timeoutMs = PROBE_TIMEOUT_MS) {
    if (!this._socket?.connected) return false;
    if (this._probing) return this._probing;
    const socket = this._socket;
    this._probing = socket
      .timeout(timeoutMs)
      .emitWithAck("ping", {}) // unnumbered: answered at once, outside the order
      .then(() => true)
      .catch(() => {
        if (this._socket === socket && socket.connected) socket.io.engine?.close();
        return false;
      })
      .finally(() => {
        this._probing = null;
      });
    return this._probing;
  }

  /**
   * Emit without waiting (used on page unload, when there is no time for an answer).
   * @param {string} event
   * @param {object} payload
   */
  notify(event, payload) {
    if (this._socket?.connected) this._socket.emit(event, this._numbered(payload), () => {});
  }

  /** Close the connection. Idempotent. */
  destroy() {
    if (!this._socket) return;
    this._socket.removeAllListeners();
    this._socket.disconnect();
    this._socket = null;
    this.dispatchEvent(new Event("close"));
  }
}
