/**
 * The ring: the panel of a call (or an invitation into a room) ringing in. It
 * shows what the view ({@link module:view}) says.
 * @module ring
 */

import { avatar, h } from "./dom.js";

/** The panel of a call (or an invitation into a room) ringing in: who, Accept, Decline. */
export class IncomingPanel {
  /**
   * @param {{onAccept: () => void, onDecline: () => void}} handlers
   */
  constructor({ onAccept, onDecline }) {
    this.name = h("strong");
    this.what = h("span", {}, " is calling…");
    this.avatar = h("span");
    this.accept = h("button", { type: "button", class: "vc-btn vc-accept", "data-testid": "videochat-accept", part: "button accept" }, "Accept");
    this.decline = h("button", { type: "button", class: "vc-btn vc-decline", "data-testid": "videochat-decline", part: "button decline" }, "Decline");
    this.root = h(
      "section",
      { class: "vc-incoming", "data-testid": "videochat-incoming", "aria-label": "Incoming call", part: "incoming", hidden: true },
      this.avatar,
      h("p", { class: "vc-incoming-text" }, this.name, this.what),
      h("div", { class: "vc-incoming-actions" }, this.decline, this.accept),
    );
    this.accept.addEventListener("click", onAccept);
    this.decline.addEventListener("click", onDecline);
  }

  /** @param {{caller: {id: string, name: string}, words: string}|null} view  null: nothing rings */
  show(view) {
    this.root.hidden = view === null;
    if (!view) return;
    this.name.textContent = view.caller.name;
    this.what.textContent = view.words;
    this.avatar.replaceWith((this.avatar = avatar(view.caller, "vc-large")));
  }
}
