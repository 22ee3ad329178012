/**
 * DOM helpers shared by the widget's views. Everything is built with
 * `createElement` and text nodes: names and messages are untrusted.
 * @module dom
 */

import { qualityWords } from "./quality.js";

/**
 * Create an element with attributes and children (strings become text nodes).
 * @param {string} tag
 * @param {Record<string, string|boolean|null|undefined>} [attrs] `false`/`null` attributes are left out
 * @param {...(Node|string)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    el.setAttribute(name, value === true ? "" : value);
  }
  el.append(...children);
  return el;
}

/** Up to two initials of a name, for the avatar. */
export function initials(name) {
  const words = String(name).match(/[\p{L}\p{N}]+/gu) ?? [];
  const letters = words.slice(0, 2).map((w) => [...w][0]);
  return letters.join("").toUpperCase() || "?";
}

/** A stable hue for a person, so their avatar keeps its colour. */
export function hue(id) {
  let n = 0;
  for (const ch of String(id)) n = (n * 31 + ch.codePointAt(0)) % 9973;
  return Math.round((n * 137.508) % 360); // golden angle: neighbouring ids far apart
}

/**
 * A round avatar with a person's initials.
 * @param {{id: string, name: string}} user
 * @param {string} [size] an extra class, e.g. "vc-large"
 */
export function avatar(user, size = "") {
  const el = h("span", { class: `vc-avatar ${size}`, "aria-hidden": "true", part: "avatar" }, initials(user.name));
  el.style.setProperty("--vc-hue", String(hue(user.id)));
  return el;
}

/** A connection quality indicator (three bars), hidden until the first rating. */
export function qualityIndicator() {
  return h("span", { class: "vc-quality", "data-testid": "videochat-quality", role: "img", part: "quality", hidden: true }, h("i"), h("i"), h("i"));
}

/**
 * Show a rating on a quality indicator: its level, the figures in its title.
 * @param {HTMLElement} el  a {@link qualityIndicator}
 * @param {string} peerId
 * @param {{level: string}} rating  from `rateQuality`
 */
export function showQuality(el, peerId, rating) {
  const words = qualityWords(rating);
  el.hidden = false;
  el.dataset.userId = peerId;
  el.dataset.level = rating.level;
  el.title = words;
  el.setAttribute("aria-label", words);
}

/**
 * Move `node` into `parent` (before `before`) unless it is there already. A playing
 * video moved synchronously keeps playing.
 * @param {Node} node
 * @param {Node} parent
 * @param {Node|null} [before]
 */
export function place(node, parent, before = null) {
  if (node.parentNode === parent && (before === null || node.nextSibling === before)) return;
  parent.insertBefore(node, before);
}

/**
 * Set a toggle button from its view: pressed, label, text, disabled.
 * @param {HTMLButtonElement} button
 * @param {{pressed: boolean, label: string, text: string, disabled?: boolean}} view
 */
export function showToggle(button, { pressed, label, text, disabled = false }) {
  button.setAttribute("aria-pressed", String(pressed));
  button.setAttribute("aria-label", label);
  button.textContent = text;
  button.disabled = disabled;
}
