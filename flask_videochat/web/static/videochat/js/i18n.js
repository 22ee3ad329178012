/**
 * The widget's words in the page's language: {@link t} looks a key up in the
 * active catalogue (the server's words for the request's locale, rendered by
 * `widget()` as `<script type="application/json" data-videochat-words>`), falling
 * back to English (catalogue.js) key by key. No DOM beyond reading that script.
 * @module i18n
 */

import { ENGLISH } from "./catalogue.js";

let active = {};
let language = "en";

/**
 * Use `words` (key -> text, or key -> plural forms) for the language `lang` (a BCP 47
 * tag such as "de" or "pt-BR"). Keys English does not have are ignored; a missing
 * key falls back to English.
 * @param {string} lang
 * @param {Record<string, string|Record<string, string>>} words
 */
export function useWords(lang, words) {
  language = lang || "en";
  active = {};
  for (const [key, text] of Object.entries(words ?? {})) {
    if (key in ENGLISH && (typeof text === "string" || (text && typeof text === "object"))) active[key] = text;
  }
}

/**
 * Read the words the server rendered into `root` (the first
 * `script[type="application/json"][data-videochat-words]`, whose `lang` names the
 * language) and use them. Without one, or with JSON that does not parse, English.
 * @param {ParentNode} root
 * @returns {string} the language now in use
 */
export function usePageWords(root) {
  const script = root.querySelector?.('script[type="application/json"][data-videochat-words]');
  if (!script) return language;
  try {
    useWords(script.getAttribute("lang") || "en", JSON.parse(script.textContent));
  } catch {
    useWords("en", {});
  }
  return language;
}

/** The language in use, a BCP 47 tag ("en" unless {@link useWords} said otherwise). */
export function currentLanguage() {
  return language;
}

function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/**
 * The text of `key` with its `{placeholders}` filled from `values`.
 * @param {string} key  a key of the English catalogue
 * @param {Record<string, string|number>} [values]
 * @returns {string}  the key itself for an unknown key (a bug, shown rather than hidden)
 */
export function t(key, values = {}) {
  const text = active[key] ?? ENGLISH[key];
  if (typeof text !== "string") return text ? tn(key, values.count ?? 0, values) : key;
  return fill(text, values);
}

/**
 * The plural form of `key` for `count` (`Intl.PluralRules` of the language in use:
 * "one", "other"...; "other" when the catalogue lacks that form), with `{count}`
 * and `values` filled in.
 * @param {string} key
 * @param {number} count
 * @param {Record<string, string|number>} [values]
 */
export function tn(key, count, values = {}) {
  const forms = (typeof active[key] === "object" && active[key]) || ENGLISH[key];
  if (typeof forms === "string") return fill(forms, { ...values, count });
  if (!forms) return key;
  let category = "other";
  try {
    category = new Intl.PluralRules(language).select(count);
  } catch {
    category = count === 1 ? "one" : "other";
  }
  return fill(forms[category] ?? forms.other, { ...values, count });
}

/**
 * An object whose properties read as the current words of `keys` (property ->
 * catalogue key): for tables read at the time they are shown.
 * @param {Record<string, string>} keys
 */
export function wordTable(keys) {
  const table = {};
  for (const [name, key] of Object.entries(keys)) Object.defineProperty(table, name, { get: () => t(key), enumerable: true });
  return Object.freeze(table);
}
