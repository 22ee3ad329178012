"""The widget's words per locale (``docs/i18n.md``): the English catalogue
(``static/videochat/js/catalogue.js``, the source of truth), the shipped translations
(``static/videochat/i18n/<locale>.json``), the host's ``VIDEOCHAT_TRANSLATIONS``
laid over them, and the choice of the request's locale."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping

from flask import Flask, current_app, has_request_context, request

#: The folder of the catalogues shipped with the package.
STATIC = Path(__file__).parent / "static" / "videochat"
#: The locales shipped besides English.
SHIPPED = ("de", "fr")
#: Languages written right to left: the widget gets ``dir="rtl"`` for them.
RTL_LANGUAGES = frozenset(
    {"ar", "arc", "dv", "fa", "ha", "he", "khw", "ks", "ku", "ps", "sd", "ur", "yi"}
)
#: Where ``app.extensions`` keeps the app's :class:`Catalogues`.
EXTENSION_KEY = "videochat_i18n"

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_START = "export const ENGLISH = Object.freeze("

@lru_cache(maxsize=1)
def english() -> dict[str, Any]:
    """The English catalogue: key -> text, or key -> plural forms (``{"one": ...,
    "other": ...}``), read from ``catalogue.js`` (whose object is strict JSON).

    :raises ValueError: catalogue.js's object is not JSON.
    """
    source = (STATIC / "js" / "catalogue.js").read_text(encoding="utf-8")
    start = source.index(_START) + len(_START)
    end = source.index("\n});", start)
    try:
        return json.loads(source[start : end + 2])
    except json.JSONDecodeError as exc:
        raise ValueError(f"catalogue.js: the ENGLISH object is not strict JSON ({exc})") from exc


def shipped(locale: str) -> dict[str, Any]:
    """A shipped translation (``"de"``, ``"fr"``) as key -> text."""
    path = STATIC / "i18n" / f"{locale}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def placeholders(text: Any) -> set[str]:
    """The ``{names}`` of a text, or of every plural form of one (``count`` too)."""
    if isinstance(text, dict):
        return set().union(*(placeholders(form) for form in text.values()))
    return set(_PLACEHOLDER.findall(text)) if isinstance(text, str) else set()


def problems(locale: str, words: Mapping[str, Any]) -> list[str]:
    """What is wrong with ``words`` for ``locale`` against English: unknown keys, empty
    texts, placeholders English's text lacks, plural forms without ``other``."""
    found = []
    base = english()
    for key, text in words.items():
        if key not in base:
            found.append(f"{locale}: unknown key {key!r}")
            continue
        if isinstance(base[key], dict):
            if not isinstance(text, dict) or not text.get("other"):
                found.append(f"{locale}: {key!r} needs plural forms with at least 'other'")
                continue
        elif not isinstance(text, str):
            found.append(f"{locale}: {key!r} must be a string")
            continue
        if not text or (isinstance(text, dict) and not all(text.values())):
            found.append(f"{locale}: {key!r} is empty")
        extra = placeholders(text) - placeholders(base[key]) - {"count"}
        if extra:
            found.append(f"{locale}: {key!r} has unknown placeholders {sorted(extra)}")
    return found


def normalize(locale: str) -> str:
    """``"de_DE"``, ``"DE-de"`` -> ``"de-DE"``; ``"fr"`` -> ``"fr"``."""
    language, _, region = locale.replace("_", "-").partition("-")
    return f"{language.lower()}-{region.upper()}" if region else language.lower()


class Catalogues:
    """The words of one app: English, the shipped translations and the host's.

    :param translations: ``VIDEOCHAT_TRANSLATIONS`` (locale -> key -> text).
    :param locale: ``VIDEOCHAT_LOCALE``: a locale, a callable returning one, or ``None``.
    :raises ValueError: a translation has an unknown key, an empty text or an unknown
        placeholder, or ``locale`` is neither ``None``, a string nor a callable.
    """

    def __init__(self, translations: Mapping[str, Mapping[str, Any]], locale: Any = None) -> None:
        if locale is not None and not isinstance(locale, str) and not callable(locale):
            raise ValueError(
                f"VIDEOCHAT_LOCALE must be None, a locale such as 'de', or a callable "
                f"returning one, got {locale!r}"
            )
        if not isinstance(translations, Mapping):
            raise ValueError(f"VIDEOCHAT_TRANSLATIONS must be a mapping, got {translations!r}")
        self.locale: str | Callable[[], str | None] | None = locale
        self.words: dict[str, dict[str, Any]] = {"en": {}}
        self.words.update({name: shipped(name) for name in SHIPPED})
        wrong = []
        for name, words in translations.items():
            if not isinstance(words, Mapping):
                raise ValueError(f"VIDEOCHAT_TRANSLATIONS[{name!r}] must be a mapping")
            wrong += problems(name, words)
            key = normalize(name)
            self.words[key] = {**self.words.get(key, {}), **words}
        if wrong:
            raise ValueError("VIDEOCHAT_TRANSLATIONS: " + "; ".join(wrong))

    def available(self) -> list[str]:
        """The locales with words, English first."""
        return list(self.words)

    def match(self, locale: str | None) -> str:
        """The catalogue for ``locale``: itself, else its language (``de-AT`` ->
        ``de``), else ``"en"``."""
        return self.find(locale) or "en"

    def find(self, locale: str | None) -> str | None:
        """The catalogue for ``locale`` (itself, else its language), or ``None``."""
        if not locale:
            return None
        tag = normalize(str(locale))
        if tag in self.words:
            return tag
        language = tag.partition("-")[0]
        return language if language in self.words else None

    def current(self) -> str:
        """The locale of the current request: ``VIDEOCHAT_LOCALE``, else Flask-Babel's
        ``get_locale()`` when the app has Flask-Babel, else the best match of
        ``Accept-Language``, else ``"en"``."""
        chosen = self.locale() if callable(self.locale) else self.locale
        if chosen:
            return self.match(chosen)
        if "babel" in current_app.extensions:
            from flask_babel import get_locale

            found = get_locale()
            if found is not None:
                return self.match(str(found))
        if has_request_context():
            # Highest quality first; "fr-CA" is served French before "en;q=0.5".
            for tag, quality in request.accept_languages:
                found = self.find(tag) if quality > 0 else None
                if found:
                    return found
        return "en"

    def words_for(self, locale: str) -> dict[str, Any]:
        """The texts of ``locale`` (only those it has: the widget falls back to
        English key by key)."""
        language = locale.partition("-")[0]
        if language != locale:
            return {**self.words.get(language, {}), **self.words.get(locale, {})}
        return dict(self.words.get(locale, {}))

    def text(self, locale: str, key: str, **values: Any) -> str:
        """The text of ``key`` in ``locale`` (else English) with its ``{placeholders}``
        filled from ``values``: for the extension's own server-rendered words."""
        found = self.words_for(locale).get(key) or english()[key]
        return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), found)


def direction(locale: str) -> str:
    """``"rtl"`` for a language written right to left, else ``"ltr"``."""
    return "rtl" if locale.partition("-")[0] in RTL_LANGUAGES else "ltr"


def init_app(app: Flask) -> Catalogues:
    """Read ``VIDEOCHAT_TRANSLATIONS`` and ``VIDEOCHAT_LOCALE`` of ``app`` (checked now)."""
    catalogues = Catalogues(
        app.config.get("VIDEOCHAT_TRANSLATIONS") or {}, app.config.get("VIDEOCHAT_LOCALE")
    )
    app.extensions[EXTENSION_KEY] = catalogues
    return catalogues


def page_text(key: str, **values: Any) -> str:
    """The text of ``key`` in the current request's locale (:meth:`Catalogues.text`)."""
    catalogues: Catalogues = current_app.extensions[EXTENSION_KEY]
    return catalogues.text(catalogues.current(), key, **values)


def page_words() -> tuple[str, str, str]:
    """For the widget of the current request: its locale, its direction (``"ltr"``
    or ``"rtl"``) and its words as JSON safe inside a ``<script>`` (``""`` when
    the locale has none: the widget's English)."""
    catalogues: Catalogues = current_app.extensions[EXTENSION_KEY]
    locale = catalogues.current()
    words = catalogues.words_for(locale)
    data = ""
    if words:
        data = json.dumps(words, ensure_ascii=False, sort_keys=True)
        # Nothing in it can end the script element or open a comment.
        data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return locale, direction(locale), data
