"""The rules for text people see: chat messages and display names. Pure Python (the
standard library's :mod:`unicodedata`), no Flask.

Both kinds of text reach other people's screens, so both get the same treatment:

* **Normalised** to NFC (Unicode Standard Annex #15): what is stored, relayed and
  counted is the composed form (``"e\\u0301"`` becomes ``"é"``). NFKC is *not*
  used: it rewrites what people wrote (``"ﬁ"`` to ``"fi"``, ``"²"`` to ``"2"``).
* **No control characters**: general category ``Cc`` (C0 and C1 controls; UAX #44,
  "General_Category Values") and lone surrogates (``Cs``: a JSON ``"\\ud800"`` arrives in Python
  as a surrogate code point, which no UTF-8 encoder takes). A chat message may hold
  a line break (U+000A) and a tab (U+0009); nothing else of ``Cc``.
* **Something visible**: at least one :func:`visible <is_visible>` character, so
  that a message or name cannot be made of white space, zero-width characters,
  fillers or combining marks alone.

They differ in what happens to text that breaks a rule. Chat comes from the sender's
browser: :func:`chat_text` *refuses* it, changing nothing, and says why. Names come
from the host (its user table, through the identity loader or Flask-Login):
:func:`clean_name` *removes* what is unsafe and :func:`display_name` falls back to
the user id when nothing visible remains.

Bidirectional text (UAX #9). A name is shown inline, next to other words ("Ada
(presenting)", a time, a status), so it must not reorder them: the explicit
embedding, override and isolate controls (:data:`BIDI_CONTROLS`, U+202A to U+202E
and U+2066 to U+2069) are removed from names, as are the deprecated stateful format
characters U+206A to U+206F and the interlinear annotation characters U+FFF9 to
U+FFFB. The implicit marks LRM, RLM and ALM (U+200E, U+200F, U+061C) stay: they
affect only their neighbours and right-to-left names need them. Chat text keeps
every bidi control: each message is its own paragraph (the widget shows it in its
own ``<p dir="auto">``), and UAX #9 ends every embedding, override and isolate at
the end of a paragraph (rule X8), so a message can reorder only its own text, which
its sender could have typed in that order anyway; people paste text holding
isolates (many applications wrap names in U+2068/U+2069). An application that shows
chat text inline elsewhere should isolate it (``<bdi>`` or ``dir="auto"``).

Example::

    chat_text("e\\u0301 bient\\u00f4t", max_length=1000)   # "é bientôt"
    chat_text("\\u200b\\u200b", max_length=1000)           # raises RefusedTextError
    display_name("\\u202eAda\\u0000", "42")                 # "Ada"
    display_name("\\u200b", "42")                           # "42"
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right

#: Longest display name, in code points after NFC normalisation; longer names are
#: cut (between grapheme clusters, see :func:`clean_name`).
MAX_NAME_LENGTH = 80

#: A chat text as sent may be this many times the limit; a longer one is refused
#: before it is normalised (NFC can shorten a text, so the limit itself is checked on
#: the normalised text; this bounds the work done first).
RAW_LENGTH_FACTOR = 4

#: The name shown when neither the name nor the user id has anything visible.
NO_NAME = "Unnamed"

#: The control characters (``Cc``) a chat message may hold: line feed and tab. The
#: widget's one-line box sends neither a line break (an ``<input type="text">``
#: strips them) nor a carriage return, but a tab can be pasted into it, and other
#: clients may send several lines: the widget shows them as lines (``white-space:
#: pre-wrap``).
CHAT_CONTROLS = frozenset("\n\t")

#: The explicit directional formatting characters of UAX #9 (section 2): LRE, RLE,
#: PDF, LRO, RLO (U+202A to U+202E) and LRI, RLI, FSI, PDI (U+2066 to U+2069).
BIDI_CONTROLS = frozenset(map(chr, (*range(0x202A, 0x202F), *range(0x2066, 0x206A))))

#: Format characters removed from names because their effect reaches past the name
#: into the text around it: :data:`BIDI_CONTROLS`, the deprecated U+206A to U+206F
#: (symmetric swapping, Arabic form shaping, digit shapes: they hold until the next
#: one or the end of the paragraph) and the interlinear annotation characters U+FFF9
#: to U+FFFB (they turn the following text into an annotation).
NAME_STRIPPED_FORMATS = BIDI_CONTROLS | frozenset(
    map(chr, (*range(0x206A, 0x2070), *range(0xFFF9, 0xFFFC)))
)

#: Default_Ignorable_Code_Point (UAX #44; its data file DerivedCoreProperties.txt):
#: code points a renderer shows as nothing when it does not support them. Copied
#: from DerivedCoreProperties-18.0.0.txt (draft of 2025-12-03), 4,174 code points,
#: adjacent ranges merged; the standard library does not expose the property. It
#: includes reserved code points (U+2065, U+FFF0..U+FFF8, U+E0000..U+E0FFF) so that
#: characters assigned there later stay ignorable. Inclusive ``(first, last)`` pairs.
DEFAULT_IGNORABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # SOFT HYPHEN
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),  # ARABIC LETTER MARK
    (0x115F, 0x1160),  # HANGUL CHOSEONG FILLER, HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ, AA
    (0x180B, 0x180F),  # MONGOLIAN FREE VARIATION SELECTORS, VOWEL SEPARATOR
    (0x200B, 0x200F),  # ZERO WIDTH SPACE, ZWNJ, ZWJ, LRM, RLM
    (0x202A, 0x202E),  # LRE, RLE, PDF, LRO, RLO
    (0x2060, 0x206F),  # WORD JOINER..INVISIBLE PLUS, <reserved>, LRI..NOMINAL DIGIT SHAPES
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTOR-1..16
    (0xFEFF, 0xFEFF),  # ZERO WIDTH NO-BREAK SPACE (BOM)
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # <reserved>
    (0x1BCA0, 0x1BCA3),  # SHORTHAND FORMAT LETTER OVERLAP..UP STEP
    (0x1D173, 0x1D17A),  # MUSICAL SYMBOL BEGIN BEAM..END PHRASE
    (0xE0000, 0xE0FFF),  # LANGUAGE TAG, TAGS, VARIATION SELECTOR-17..256, <reserved>
)
_IGNORABLE_STARTS = tuple(first for first, _ in DEFAULT_IGNORABLE_RANGES)

#: Characters that are neither white space nor ignorable but draw nothing, and are
#: used for names that look empty: U+2800 BRAILLE PATTERN BLANK and U+1D159 MUSICAL
#: SYMBOL NULL NOTEHEAD (both ``So``).
BLANK_SYMBOLS = frozenset("\u2800\U0001d159")

_ZWJ = "\u200d"


class RefusedTextError(ValueError):
    """A chat text that breaks a rule; ``str(error)`` says which, in words for the
    sender (no final full stop)."""


class TextTooLongError(RefusedTextError):
    """A chat text longer than the limit."""


def is_default_ignorable(char: str) -> bool:
    """Whether ``char`` has the Unicode property Default_Ignorable_Code_Point
    (:data:`DEFAULT_IGNORABLE_RANGES`)."""
    code = ord(char)
    at = bisect_right(_IGNORABLE_STARTS, code) - 1
    return at >= 0 and code <= DEFAULT_IGNORABLE_RANGES[at][1]


def is_visible(char: str) -> bool:
    """Whether ``char`` draws something on its own: it is not white space (general
    category ``Zs``, ``Zl``, ``Zp``), not a control, format character or surrogate
    (``Cc``, ``Cf``, ``Cs``), not a combining mark (``Mn``, ``Mc``, ``Me``: visible
    only on a base character), not a private-use character (``Co``: drawn only with
    a font of its own, blank elsewhere), not a noncharacter, not
    Default_Ignorable_Code_Point (fillers, variation selectors, U+034F, U+180E, ...)
    and not one of :data:`BLANK_SYMBOLS` (U+2800 BRAILLE PATTERN BLANK, U+1D159
    MUSICAL SYMBOL NULL NOTEHEAD: symbols that draw nothing).

    Categories come from :mod:`unicodedata` (UAX #44, "General_Category Values",
    in the Unicode version of the running Python: 14.0 for 3.11). A code point its
    Unicode version does not know yet (``Cn``: an emoji newer than the Python
    running, say) counts as visible unless it is in a reserved ignorable range.
    """
    category = unicodedata.category(char)
    if category[0] in "ZM" or category in ("Cc", "Cf", "Cs", "Co"):
        return False
    if _is_noncharacter(char):
        return False
    return not is_default_ignorable(char) and char not in BLANK_SYMBOLS


def _is_noncharacter(char: str) -> bool:
    """Unicode's 66 noncharacters (U+FDD0..U+FDEF and the last two code points of
    every plane, Unicode chapter 23.7): never assigned, never drawn."""
    point = ord(char)
    return 0xFDD0 <= point <= 0xFDEF or (point & 0xFFFE) == 0xFFFE


def has_visible(text: str) -> bool:
    """Whether ``text`` has at least one :func:`visible <is_visible>` character."""
    return any(is_visible(char) for char in text)


def chat_text(text: str, *, max_length: int) -> str:
    """Return chat ``text`` as it is stored and relayed: in NFC. Refuse it (changing
    nothing) when it breaks a rule, checked in this order:

    1. more than :data:`RAW_LENGTH_FACTOR` times ``max_length`` code points as sent
       (:class:`TextTooLongError`, before any other work);
    2. a lone surrogate (``Cs``) or a control character (``Cc``) other than line
       feed and tab (:data:`CHAT_CONTROLS`);
    3. more than ``max_length`` code points **after** NFC normalisation
       (:class:`TextTooLongError`): the limit bounds what is stored and shown, whatever
       form the sender's system wrote (``"e\\u0301"`` counts 1, as ``"é"``);
    4. nothing :func:`visible <is_visible>`.

    Everything else is kept as written: emoji sequences (ZWJ, skin tones, flags,
    keycaps, variation selectors), right-to-left text with its marks, ZWNJ inside
    Persian words, bidi controls (see the module notes), combining accents.

    :param max_length: the limit, in code points
        (:data:`~flask_videochat.core.protocol.MAX_CHAT_LENGTH` for the protocol).
    :raises TextTooLongError: the text is too long.
    :raises RefusedTextError: any other rule.
    """
    if len(text) > RAW_LENGTH_FACTOR * max_length:
        raise TextTooLongError(f"A chat message has at most {max_length} characters")
    for char in text:
        category = unicodedata.category(char)
        if category == "Cs":
            raise RefusedTextError(
                f"A chat message may not contain a lone surrogate (U+{ord(char):04X}): "
                "it is not valid Unicode text"
            )
        if category == "Cc" and char not in CHAT_CONTROLS:
            raise RefusedTextError(
                f"A chat message may not contain control characters (U+{ord(char):04X}); "
                "line breaks and tabs are allowed"
            )
    text = unicodedata.normalize("NFC", text)
    if len(text) > max_length:
        raise TextTooLongError(f"A chat message has at most {max_length} characters")
    if not has_visible(text):
        raise RefusedTextError(
            "A chat message needs some visible text, not only white space or invisible characters"
        )
    return text


def clean_name(name: str, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """``name`` made safe to show next to other text, or ``""`` when nothing visible
    remains. In this order:

    1. remove lone surrogates (``Cs``), control characters (``Cc``) that are not
       white space, and :data:`NAME_STRIPPED_FORMATS` (bidi embeddings, overrides and
       isolates among them);
    2. normalise to NFC;
    3. fold white space: every run of white space (the ``Cc`` ones too: tab, line
       feed...) becomes one space, none at either end;
    4. cut to ``max_length`` code points, between grapheme clusters (a combining
       mark stays with its letter, an emoji ZWJ sequence, flag or keycap is kept
       whole or dropped whole) unless the first cluster alone is longer;
    5. ``""`` if no character is :func:`visible <is_visible>`.

    Zero-width characters, variation selectors, ZWNJ/ZWJ and LRM/RLM inside a name
    stay: emoji and scripts need them, and they do not reach outside the name.

    Hosts can use it to check a name where people choose one (a sign-in form): a
    name for which it returns ``""`` would be shown as the user id.
    """
    kept = "".join(
        char
        for char in name
        if char not in NAME_STRIPPED_FORMATS
        and not (unicodedata.category(char) in ("Cc", "Cs") and not char.isspace())
    )
    folded = " ".join(unicodedata.normalize("NFC", kept).split())
    cut = _cut(folded, max_length).rstrip()
    return cut if has_visible(cut) else ""


def display_name(name: object, user_id: str, *, max_length: int = MAX_NAME_LENGTH) -> str:
    """The name shown for the user ``user_id``: :func:`clean_name` of ``name`` (any
    object but ``None`` is converted with :class:`str`), else of ``user_id``, else
    :data:`NO_NAME`."""
    for candidate in (name, user_id):
        if candidate is not None:
            cleaned = clean_name(str(candidate), max_length=max_length)
            if cleaned:
                return cleaned
    return NO_NAME


def _cut(text: str, limit: int) -> str:
    """The first ``limit`` code points of ``text``, fewer when the limit falls
    inside a grapheme cluster: an approximation of UAX #29 extended grapheme
    clusters that keeps combining marks, ZWJ sequences, emoji modifiers, tag
    sequences and regional indicator pairs (flags) whole."""
    if len(text) <= limit:
        return text
    end = limit
    while end > 0 and _inside_cluster(text, end):
        end -= 1
    return text[: end or limit]


def _inside_cluster(text: str, at: int) -> bool:
    """Whether a cut before ``text[at]`` would split a grapheme cluster."""
    char, before = text[at], text[at - 1]
    code = ord(char)
    if before == _ZWJ or char == _ZWJ or unicodedata.category(char)[0] == "M":
        return True  # marks (variation selectors too), ZWJ and what a ZWJ joins
    if 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F:
        return True  # emoji modifiers (skin tones), tag characters
    if _is_regional_indicator(char):
        pairs = 0
        while at - pairs > 0 and _is_regional_indicator(text[at - pairs - 1]):
            pairs += 1
        return pairs % 2 == 1  # the second letter of a flag
    return False


def _is_regional_indicator(char: str) -> bool:
    return 0x1F1E6 <= ord(char) <= 0x1F1FF
