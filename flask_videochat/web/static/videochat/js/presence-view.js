/**
 * Who is online: the online list (each person with their status and a Call button)
 * and the panel of people you can add to your call or room. Each shows what the
 * view ({@link module:view}) says.
 * @module presence-view
 */

import { t } from "./i18n.js";
import { avatar, h } from "./dom.js";

/** The ids of the rows' reasons (unique in the shadow root; user ids are untrusted). */
let reasonIds = 0;

/** The online list. */
export class PresenceList {
  /** @param {{onCall: (userId: string) => void}} handlers */
  constructor({ onCall }) {
    this._onCall = onCall;
    /** @type {Map<string, {li: HTMLElement, button: HTMLButtonElement, name: HTMLElement, status: HTMLElement, avatar: HTMLElement}>} */
    this._rows = new Map();
    this.heading = h("h3", { class: "vc-heading" }, t("presence.heading"));
    this.list = h("ul", { class: "vc-list", "data-testid": "videochat-presence", "aria-label": t("presence.label"), part: "presence" });
    this.empty = h("p", { class: "vc-empty" }, t("presence.empty"));
  }

  /**
   * Show who is online. Rows are kept per person and updated in place (moved only
   * when the order changes): a row rebuilt under the pointer would swallow a click
   * on its Call button made while someone else's status changed.
   * @param {{users: object[], empty: boolean}} view  the view's `presence`
   */
  show({ users, empty }) {
    const online = new Set(users.map((u) => u.id));
    for (const [id, row] of this._rows) {
      if (!online.has(id)) {
        row.li.remove();
        this._rows.delete(id);
      }
    }
    let previous = null;
    for (const user of users) {
      const row = this._row(user);
      const at = previous ? previous.nextSibling : this.list.firstChild;
      if (at !== row.li) this.list.insertBefore(row.li, at);
      previous = row.li;
    }
    this.empty.hidden = !empty;
  }

  _row(user) {
    let row = this._rows.get(user.id);
    if (!row) {
      const button = h("button", { type: "button", class: "vc-btn vc-call", "data-testid": "videochat-call", part: "button call" }, t("call.button"));
      button.addEventListener("click", () => this._onCall(user.id));
      const name = h("span", { class: "vc-name" });
      const status = h("span", { class: "vc-presence" });
      const reason = h("span", { class: "vc-call-reason", id: `vc-call-reason-${++reasonIds}`, "data-testid": "videochat-call-reason", hidden: true });
      const placeholder = h("span");
      const li = h("li", { class: "vc-user", "data-testid": "videochat-user", "data-user-id": user.id, part: "user" },
        placeholder, h("span", { class: "vc-user-text" }, name, status, reason), button);
      row = { li, button, name, status, reason, avatar: placeholder };
      this._rows.set(user.id, row);
    }
    if (row.name.textContent !== user.name) {
      row.name.textContent = user.name;
      row.avatar.replaceWith((row.avatar = avatar(user)));
      row.button.setAttribute("aria-label", user.call.label);
    }
    if (row.li.dataset.status !== user.status) {
      row.li.dataset.status = user.status;
      row.status.className = `vc-presence vc-${user.status}`;
      row.status.textContent = user.statusWords;
    }
    const { call } = user;
    row.button.disabled = call.disabled;
    if (row.button.textContent !== call.text) row.button.textContent = call.text;
    row.button.title = call.title;
    // Why the button is disabled when the host does not let you call them: said in
    // words under the name, and read with the button.
    const reason = call.reason ?? "";
    if (row.reason.textContent !== reason) row.reason.textContent = reason;
    row.reason.hidden = reason === "";
    if (reason) row.button.setAttribute("aria-describedby", row.reason.id);
    else row.button.removeAttribute("aria-describedby");
    return row;
  }

  /** Forget everyone (the connection was closed). */
  clear() {
    for (const row of this._rows.values()) row.li.remove();
    this._rows.clear();
    this.empty.hidden = false;
  }
}

/** The panel of people you can add to your call or room. */
export class AddPanel {
  /** @param {{onInvite: (userId: string) => void}} handlers */
  constructor({ onInvite }) {
    this._onInvite = onInvite;
    this._shown = "";
    this.list = h("ul", { class: "vc-list vc-add-list", "aria-label": t("add.list_label") });
    this.empty = h("p", { class: "vc-empty" }, t("add.empty"));
    this.root = h(
      "section",
      { class: "vc-add-panel", "aria-label": t("add.label"), "data-testid": "videochat-add-panel", part: "add-panel", hidden: true },
      h("h3", { class: "vc-heading" }, t("controls.add")),
      this.list,
      this.empty,
    );
  }

  /**
   * Open or close the panel, listing the candidates (rebuilt only when they change,
   * so that a click is never swallowed by a list rebuilt under the pointer).
   * @param {{open: boolean, candidates: {id: string, name: string}[]}} view  the view's `add`
   */
  show({ open, candidates }) {
    this.root.hidden = !open;
    if (!open) return;
    const key = JSON.stringify(candidates.map((u) => [u.id, u.name]));
    if (key === this._shown) return;
    this._shown = key;
    this.list.replaceChildren(
      ...candidates.map((user) => {
        const button = h("button", { type: "button", class: "vc-btn vc-call", "data-testid": "videochat-invite", "aria-label": t("add.person", { name: user.name }), part: "button invite" }, t("add.button"));
        button.addEventListener("click", () => this._onInvite(user.id));
        return h("li", { class: "vc-user", "data-user-id": user.id, part: "user" }, avatar(user), h("span", { class: "vc-user-text" }, h("span", { class: "vc-name" }, user.name)), button);
      }),
    );
    this.empty.hidden = candidates.length > 0;
  }
}
