/**
 * The ring: the panel of a call (or an invitation into a room) ringing in, and the
 * system notification that says so while the tab is hidden. The panel is a modal
 * `<dialog>` (`role="alertdialog"`) opened with `showModal()`: it sits in the
 * browser's top layer, over the whole viewport, wherever the widget is in the page
 * (below the fold, in a scrolled or clipped box). It shows what the view
 * ({@link module:view}) says.
 * @module ring
 */

import { t } from "./i18n.js";
import { avatar, h } from "./dom.js";

/** The `tag` of the ring's system notification (one at a time per site). */
export const NOTIFICATION_TAG = "videochat-ring";

let ids = 0;

/** The panel of a call (or an invitation into a room) ringing in: who, Accept, Decline. */
export class IncomingPanel {
  /**
   * Escape declines; focus moves to Accept when the panel opens, and back to where
   * it was when it closes.
   * @param {{onAccept: () => void, onDecline: () => void}} handlers
   */
  constructor({ onAccept, onDecline }) {
    const id = `vc-ring-${++ids}`;
    this.name = h("strong");
    this.what = h("span", {}, " is calling…");
    this.avatar = h("span");
    this.title = h("h2", { class: "vc-incoming-title", id: `${id}-title` }, t("ring.title"));
    this.text = h("p", { class: "vc-incoming-text", id: `${id}-text` }, this.name, this.what);
    this.accept = h("button", { type: "button", class: "vc-btn vc-accept", "data-testid": "videochat-accept", part: "button accept" }, t("ring.accept"));
    this.decline = h("button", { type: "button", class: "vc-btn vc-decline", "data-testid": "videochat-decline", part: "button decline" }, t("ring.decline"));
    /** Where the device check goes while the panel is open (the rest of the page is inert). */
    this.devicesSlot = h("div", { class: "vc-incoming-devices" });
    this.root = h(
      "dialog",
      {
        class: "vc-incoming",
        "data-testid": "videochat-incoming",
        role: "alertdialog",
        "aria-labelledby": this.title.id,
        "aria-describedby": this.text.id,
        part: "incoming",
      },
      this.title,
      this.avatar,
      this.text,
      h("div", { class: "vc-incoming-actions" }, this.decline, this.accept),
      this.devicesSlot,
    );
    /** What had the focus before the panel opened, given it back after. @type {Element|null} */
    this._returnFocus = null;
    this.accept.addEventListener("click", onAccept);
    this.decline.addEventListener("click", onDecline);
    // Escape (the dialog's cancel): decline, and keep the panel until the view closes it.
    this.root.addEventListener("cancel", (e) => {
      e.preventDefault();
      onDecline();
    });
  }

  /** @param {{caller: {id: string, name: string}, words: string}|null} view  null: nothing rings */
  show(view) {
    if (!view) {
      this._close();
      return;
    }
    this.name.textContent = view.caller.name;
    this.what.textContent = view.words;
    this.avatar.replaceWith((this.avatar = avatar(view.caller, "vc-large")));
    if (!this.root.open && this.root.isConnected) this._open();
  }

  _open() {
    this._returnFocus = deepActiveElement();
    try {
      this.root.showModal();
    } catch {
      this.root.show(); // not in a document that can show a modal: shown in place
    }
    this.accept.focus();
  }

  _close() {
    if (!this.root.open) return;
    const back = this._returnFocus;
    this._returnFocus = null;
    this.root.close();
    if (back?.isConnected && typeof back.focus === "function") back.focus();
  }
}

/** The focused element, looking into open shadow roots. */
function deepActiveElement() {
  let el = document.activeElement;
  while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
  return el;
}

/**
 * The system notification of a ring, shown while the tab is hidden
 * (`document.visibilityState`): clicking it brings the tab forward
 * (`window.focus()`); it closes when the ring ends or the tab is shown. Needs the
 * Notification API's permission, asked by {@link askNotificationPermission}.
 */
export class RingNotice {
  constructor() {
    /** The ring's words (e.g. "Bob is calling…"), or null. */
    this._title = null;
    /** @type {Notification|null} */
    this._notification = null;
    this._onVisibility = () => this._update();
    document.addEventListener("visibilitychange", this._onVisibility);
  }

  /** @param {string|null} title  the ring's words; null: nothing rings */
  ring(title) {
    if (title === this._title) return;
    this._title = title;
    this._close();
    this._update();
  }

  /** Stop listening; close the notification. Idempotent. */
  destroy() {
    document.removeEventListener("visibilitychange", this._onVisibility);
    this._title = null;
    this._close();
  }

  _update() {
    if (this._title === null || document.visibilityState !== "hidden") {
      this._close();
      return;
    }
    if (this._notification || globalThis.Notification?.permission !== "granted") return;
    try {
      const n = new Notification(this._title, { tag: NOTIFICATION_TAG, requireInteraction: true });
      n.onclick = () => {
        window.focus();
        n.close();
      };
      this._notification = n;
    } catch {
      // Some browsers allow notifications only from a service worker: the title and ring tone remain.
    }
  }

  _close() {
    this._notification?.close();
    this._notification = null;
  }
}

/** Whether the permission was asked in this page already. */
let asked = false;

/**
 * Ask for the permission to show notifications, once per page and only while the
 * browser has not decided (never again once granted or denied). Call it inside a
 * user gesture: placing, accepting a call or joining a room.
 */
export function askNotificationPermission() {
  const N = globalThis.Notification;
  if (asked || !N || N.permission !== "default" || typeof N.requestPermission !== "function") return;
  asked = true;
  try {
    N.requestPermission()?.catch?.(() => {});
  } catch {
    // an old browser's callback form: nothing to do
  }
}
