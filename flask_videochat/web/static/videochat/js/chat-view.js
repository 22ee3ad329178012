/**
 * The chat panel: the messages of a call or room (sender names and text rendered as
 * text, with their time) and a box to send one. Knows nothing of Socket.IO: sending
 * goes through the `send` callback.
 * @module chat-view
 */

import { t } from "./i18n.js";
import { h } from "./dom.js";

/** Longest message the box accepts, in characters (the server's limit). */
export const DEFAULT_MAX_LENGTH = 1000;

/** Messages shown; older ones are removed from the panel. */
export const MAX_SHOWN = 200;

const TIME_FORMAT = { hour: "2-digit", minute: "2-digit" };

/**
 * Put `message` into `messages` (oldest first) at its place by the server's `seq`
 * (messages can arrive in another order through two server processes), once per
 * id, keeping the last `max`.
 * @param {{id: string, seq?: number}[]} messages
 * @param {{id: string, seq?: number}} message
 * @param {number} [max]
 * @returns {boolean} whether it was new
 */
export function keepInOrder(messages, message, max = MAX_SHOWN) {
  if (messages.some((m) => m.id === message.id)) return false;
  let at = messages.length;
  while (at > 0 && (messages[at - 1].seq ?? 0) > (message.seq ?? Infinity)) at -= 1;
  messages.splice(at, 0, message);
  if (messages.length > max) messages.shift();
  return true;
}

/** The chat panel of the widget. */
export class ChatView {
  /**
   * @param {object} options
   * @param {(text: string) => Promise<boolean>} options.send  sends a message; resolves true when the server took it
   * @param {number} [options.maxLength]
   */
  constructor({ send, maxLength = DEFAULT_MAX_LENGTH }) {
    this._send = send;
    this._ids = new Set();
    this.log = h("ol", { class: "vc-chat-log", role: "log", "aria-live": "polite", "aria-label": t("chat.log_label"), part: "chat-log" });
    this.empty = h("p", { class: "vc-chat-empty" }, t("chat.empty"));
    this.input = h("input", {
      type: "text",
      class: "vc-chat-input",
      "data-testid": "videochat-chat-input",
      "aria-label": t("chat.input_label"),
      placeholder: t("chat.placeholder"),
      autocomplete: "off",
      dir: "auto",
      maxlength: String(maxLength),
      part: "chat-input",
    });
    this.button = h("button", { type: "submit", class: "vc-btn vc-chat-send", "data-testid": "videochat-chat-send", part: "button chat-send" }, t("chat.send"));
    this.form = h("form", { class: "vc-chat-form" }, this.input, this.button);
    this.root = h("section", { class: "vc-chat", "aria-label": t("chat.heading"), part: "chat" }, h("h3", { class: "vc-heading" }, t("chat.heading")), this.log, this.empty, this.form);
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this._submit();
    });
  }

  /**
   * Show a message (once per message id).
   * @param {{id: string, from: {id: string, name: string}, text: string, ts: number}} message
   * @param {{mine?: boolean}} [options]
   */
  add(message, { mine = false } = {}) {
    if (this._ids.has(message.id)) return;
    this._ids.add(message.id);
    const when = new Date(message.ts);
    const item = h(
      "li",
      { class: `vc-chat-message${mine ? " vc-mine" : ""}`, "data-testid": "videochat-chat-message", "data-message-id": message.id, part: "chat-message" },
      h("span", { class: "vc-chat-meta" }, h("strong", { class: "vc-chat-from", dir: "auto" }, mine ? t("member.you") : message.from.name), " ", h("time", { datetime: when.toISOString() }, when.toLocaleTimeString([], TIME_FORMAT))),
      // Its own paragraph, direction from its first strong letter and isolated
      // (dir="auto"): bidi controls in a message end with it (UAX #9, X8).
      h("p", { class: "vc-chat-text", dir: "auto" }, message.text),
    );
    if (typeof message.seq === "number") item.dataset.seq = String(message.seq);
    // In order of the server's seq: a message that arrives late goes to its place.
    let next = null;
    for (const li of this.log.children) {
      if (typeof message.seq === "number" && Number(li.dataset.seq) > message.seq) {
        next = li;
        break;
      }
    }
    this.log.insertBefore(item, next);
    while (this.log.childElementCount > MAX_SHOWN) {
      this._ids.delete(this.log.firstElementChild.dataset.messageId);
      this.log.firstElementChild.remove();
    }
    this.empty.hidden = true;
    this.log.scrollTop = this.log.scrollHeight;
  }

  /** Remove every message (a new call or room starts). */
  clear() {
    this.log.replaceChildren();
    this._ids.clear();
    this.empty.hidden = false;
    this.input.value = "";
  }

  async _submit() {
    const text = this.input.value;
    if (!text.trim() || this.button.disabled) return;
    this.button.disabled = true;
    try {
      if (await this._send(text)) this.input.value = "";
    } finally {
      this.button.disabled = false;
      this.input.focus();
    }
  }
}
