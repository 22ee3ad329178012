/**
 * The widget's debug logger: off by default, on with
 * `localStorage["videochat.debug"] = "1"`.
 * @module log
 */

/**
 * A logger whose lines start with `[videochat:<name>]`.
 * @param {string} name  the module, e.g. "peer"
 * @returns {(...args: unknown[]) => void}
 */
export function logger(name) {
  const prefix = `[videochat:${name}]`;
  return (...args) => {
    if (globalThis.localStorage?.getItem("videochat.debug") === "1") console.debug(prefix, ...args);
  };
}
