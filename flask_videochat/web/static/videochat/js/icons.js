/**
 * The widget's icons (Lucide, vendored in `vendor/lucide` under the ISC licence).
 * An icon is a `<span>` that `css/icons.css` paints with the SVG file as a mask in
 * the text's colour: no markup is parsed, nothing is inlined, and a strict
 * Content-Security-Policy needs only `img-src 'self'` for it.
 * Icons are decoration (`aria-hidden`): the button or label that holds one says
 * in words what it is.
 * @module icons
 */

/** The stylesheet that draws the icons; the widget links it in its shadow root. */
export const ICON_STYLESHEET = new URL("../css/icons.css", import.meta.url).href;

/**
 * An icon.
 * @param {string} name  a Lucide icon's name that `css/icons.css` has a rule for
 *   (for example "mic-off"); tests/test_icons.py checks every name used
 * @param {string} [cls]  more classes
 * @returns {HTMLSpanElement}
 */
export function icon(name, cls = "") {
  const span = document.createElement("span");
  span.className = `vc-icon vc-i-${name}${cls ? ` ${cls}` : ""}`;
  span.setAttribute("aria-hidden", "true");
  span.dataset.icon = name;
  return span;
}

/**
 * Show another icon in an icon's place (a toggle's pressed state).
 * @param {HTMLElement} span  an element {@link icon} made
 * @param {string} name
 */
export function setIcon(span, name) {
  if (span.dataset.icon === name) return;
  span.classList.remove(`vc-i-${span.dataset.icon}`);
  span.classList.add(`vc-i-${name}`);
  span.dataset.icon = name;
}
