"""The rules for chat text and display names (``flask_videochat.core.text``), on their own:
no Flask, no Socket.IO."""

# Hebrew, Arabic, Persian and CJK text here is on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import re
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_videochat.core.text import (
    BIDI_CONTROLS,
    DEFAULT_IGNORABLE_RANGES,
    MAX_NAME_LENGTH,
    NAME_STRIPPED_FORMATS,
    NO_NAME,
    RefusedTextError,
    TextTooLongError,
    chat_text,
    clean_name,
    display_name,
    has_visible,
    is_default_ignorable,
    is_visible,
)

LIMIT = 1000

#: Text that must pass unchanged: emoji sequences, right-to-left scripts with their
#: marks, Persian ZWNJ, CJK, a line break and a tab.
KEPT = {
    "family": "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # ZWJ sequence
    "flag": "\U0001f1e9\U0001f1ea",  # DE, regional indicators
    "scotland": "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    "skin-tone": "\U0001f44d\U0001f3fd",
    "keycap": "1\ufe0f\u20e3",
    "red-heart": "\u2764\ufe0f",
    "hebrew": "שלום",
    "arabic": "سلام",
    "hebrew-rlm": "\u200fשלום\u200f, Ada",
    "arabic-alm": "\u061cسلام 42",
    "persian-zwnj": "می\u200cخواهم",
    "cjk": "你好，世界",
    "hangul": "안녕하세요",
    "lines": "first line\nsecond\tcolumn",
    "isolate": "said \u2068سلام\u2069 twice",  # bidi controls stay in chat
    "newer-emoji": "\U0001fae8",  # SHAKING FACE (Unicode 15): Cn for older Pythons
}

#: Chat text refused with the words of the rule it breaks.
REFUSED = {
    "nul": ("\u0000", "control characters (U+0000)"),
    "nul-inside": ("a\u0000b", "control characters (U+0000)"),
    "escape": ("\x1b[31mred", "control characters (U+001B)"),
    "carriage-return": ("a\r\nb", "control characters (U+000D)"),
    "c1": ("a\x85b", "control characters (U+0085)"),
    "lone-surrogate": ("\ud800", "lone surrogate (U+D800)"),
    "surrogate-inside": ("ok \udfff", "lone surrogate (U+DFFF)"),
    "zero-width-spaces": ("\u200b\u200b", "visible text"),
    "word-joiner": ("\u2060", "visible text"),
    "bom": ("\ufeff", "visible text"),
    "rlo": ("\u202e", "visible text"),
    "isolates": ("\u2066\u2069", "visible text"),
    "lrm-rlm": ("\u200e\u200f", "visible text"),
    "zwj-zwnj": ("\u200d\u200c", "visible text"),
    "variation-selector": ("\ufe0f", "visible text"),
    "combining-alone": ("\u0301\u0301", "visible text"),
    "cgj": ("\u034f", "visible text"),
    "hangul-fillers": ("\u115f\u1160\u3164\uffa0", "visible text"),
    "mongolian-separator": ("\u180e", "visible text"),
    "braille-blank": ("\u2800", "visible text"),
    "null-notehead": ("\U0001d159", "visible text"),
    "private-use": ("\ue000\U000f0000", "visible text"),
    "noncharacters": ("\ufdd0\ufffe\U0010ffff", "visible text"),
    "tags": ("\U000e0001\U000e0041", "visible text"),
    "white-space": (" \n\t\u00a0\u3000\u2028", "visible text"),
}


@pytest.mark.parametrize("text", list(KEPT.values()), ids=list(KEPT))
def test_chat_text_keeps_emoji_scripts_and_marks(text: str) -> None:
    assert unicodedata.is_normalized("NFC", text)
    assert chat_text(text, max_length=LIMIT) == text


@pytest.mark.parametrize(("text", "words"), list(REFUSED.values()), ids=list(REFUSED))
def test_chat_text_refuses_controls_surrogates_and_invisible_text(text: str, words: str) -> None:
    with pytest.raises(RefusedTextError, match=re.escape(words)):
        chat_text(text, max_length=LIMIT)


def test_chat_text_is_stored_in_nfc_not_nfkc() -> None:
    assert chat_text("e\u0301", max_length=LIMIT) == "\u00e9"
    assert chat_text("Ame\u0301lie", max_length=LIMIT) == "Amélie"
    assert chat_text("\u1100\u1161\u11a8", max_length=LIMIT) == "\uac01"  # jamo to syllable
    # Compatibility forms are what people wrote: NFKC would change them.
    assert chat_text("ﬁne x² ①", max_length=LIMIT) == "ﬁne x² ①"


def test_chat_length_is_counted_after_normalisation() -> None:
    decomposed = "e\u0301" * 10  # 20 code points as sent, 10 in NFC
    assert chat_text(decomposed, max_length=10) == "\u00e9" * 10
    with pytest.raises(TextTooLongError, match="at most 9 characters"):
        chat_text(decomposed, max_length=9)
    # NFC can also lengthen a text: U+FB2C decomposes to three code points.
    assert len(unicodedata.normalize("NFC", "\ufb2c")) == 3
    with pytest.raises(TextTooLongError):
        chat_text("\ufb2c" * 4, max_length=10)
    # Far too long as sent: refused before any other work.
    with pytest.raises(TextTooLongError):
        chat_text("\u0000" * 41, max_length=10)
    assert chat_text("x" * 10, max_length=10) == "x" * 10


def test_too_long_is_a_refusal_too() -> None:
    assert issubclass(TextTooLongError, RefusedTextError)
    assert issubclass(RefusedTextError, ValueError)


def test_default_ignorable_code_points() -> None:
    total = sum(last - first + 1 for first, last in DEFAULT_IGNORABLE_RANGES)
    assert total == 4174  # "Total code points" in DerivedCoreProperties.txt
    starts = [first for first, _ in DEFAULT_IGNORABLE_RANGES]
    assert starts == sorted(starts)
    for char in "\u00ad\u034f\u061c\u115f\u180e\u200b\u200d\u2060\u2064\u2065\u206f\u3164":
        assert is_default_ignorable(char), hex(ord(char))
    for char in "\ufe00\ufe0f\ufeff\uffa0\U0001bca0\U0001d17a\U000e0000\U000e0fff":
        assert is_default_ignorable(char), hex(ord(char))
    for char in "a \u00ac\u00ae\u034e\u2028\u20e3\u2800\ufff9\U0001f1e6\U000e1000\x00\U0010ffff":
        assert not is_default_ignorable(char), hex(ord(char))


def test_every_format_character_is_ignorable_but_the_documented_ones() -> None:
    # Default_Ignorable_Code_Point = Other_DICP + Cf + Variation_Selector - White_Space
    # - FFF9..FFFB - 13430..13440 - Prepended_Concatenation_Mark (its derivation in
    # DerivedCoreProperties.txt): cross-check the hard-coded ranges against the
    # categories of the standard library's Unicode data.
    excluded = {*range(0xFFF9, 0xFFFC), *range(0x13430, 0x13441)}
    prepended = {*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2}
    prepended |= {0x110BD, 0x110CD}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        if category == "Cf" and code not in excluded | prepended:
            assert is_default_ignorable(char), hex(code)
        if category == "Mn" and unicodedata.name(char).startswith("VARIATION SELECTOR-"):
            assert is_default_ignorable(char), hex(code)
        if is_default_ignorable(char):
            assert category in ("Cf", "Mn", "Lo", "Cn"), (hex(code), category)


def test_what_counts_as_visible() -> None:
    for char in "aZ9éß中ש\u0627!\u00a9\U0001f468\U0001f1e9#":
        assert is_visible(char), hex(ord(char))
    # Private use (blank without its own font), noncharacters, a null notehead.
    for char in "\ue000\U000f0000\ufdd0\ufffe\U0010ffff\U0001d159":
        assert not is_visible(char), hex(ord(char))
    for char in " \u00a0\u2003\u3000\u2028\u2029\t\n\x00\x7f\x9f\u200b\u200c\u200d\u2060":
        assert not is_visible(char), hex(ord(char))
    for char in "\ufeff\u202e\u2066\u0301\u20e3\ufe0f\u034f\u3164\u115f\u180e\u2800\ud800":
        assert not is_visible(char), hex(ord(char))
    assert has_visible("\u200b a \u200b")
    assert not has_visible("")
    assert not has_visible("\u200b\u0301 \ufe0f")


NAMES = {
    # name as the host gives it -> name as shown ("" for: nothing visible remains)
    "plain": ("Ada Lovelace", "Ada Lovelace"),
    "markup-is-text": ("<img src=x onerror=alert(1)>", "<img src=x onerror=alert(1)>"),
    "controls-removed": ("Ada\u0000\u0007 Love\x1blace", "Ada Lovelace"),
    "c1-removed": ("Ada\x9b31m", "Ada31m"),
    "white-space-folded": ("  Ada\n\tLovelace\u00a0\u2028 ", "Ada Lovelace"),
    "override-removed": ("Mallory\u202e (admin)", "Mallory (admin)"),
    "embeddings-removed": ("\u202aAda\u202c \u202bBob\u202c", "Ada Bob"),
    "isolates-removed": ("\u2067Bob\u2069\u2068!\u2069", "Bob!"),
    "deprecated-formats-removed": ("\u206aAda\u206f", "Ada"),
    "annotation-removed": ("Ada\ufff9note\ufffb", "Adanote"),
    "surrogates-removed": ("Ada\ud800\udfff", "Ada"),
    "nfc": ("Rene\u0301e", "Renée"),
    "nfc-not-nfkc": ("ﬁona²", "ﬁona²"),
    "emoji-kept": ("Ada \U0001f468\u200d\U0001f469\u200d\U0001f467 \U0001f1e9\U0001f1ea", None),
    "keycap-kept": ("Team 1\ufe0f\u20e3", None),
    "hebrew-marks-kept": ("\u200fשלום\u200f", None),
    "arabic-kept": ("سلام", None),
    "persian-zwnj-kept": ("مریم\u200cسادات", None),
    "cjk-kept": ("李小龙", None),
    "zero-width-only": ("\u200b\u200b\u2060\ufeff", ""),
    "override-only": ("\u202e", ""),
    "fillers-only": ("\u3164\u115f", ""),
    "marks-only": ("\u0301\ufe0f", ""),
    "braille-blank-only": ("\u2800 \u2800", ""),
    "private-use-only": ("\ue000\ue001", ""),
    "noncharacters-only": ("\ufdd0\uffff", ""),
    "null-notehead-only": ("\U0001d159", ""),
    "controls-only": ("\u0000\u001b\u007f", ""),
    "empty": ("", ""),
}


@pytest.mark.parametrize(("name", "shown"), list(NAMES.values()), ids=list(NAMES))
def test_clean_name(name: str, shown: str | None) -> None:
    assert clean_name(name) == (name if shown is None else shown)


def test_display_name_falls_back_to_the_user_id() -> None:
    assert display_name("Ada", "42") == "Ada"
    assert display_name("\u200b", "42") == "42"
    assert display_name("\u202e\u0000", "42") == "42"
    assert display_name(None, "42") == "42"
    assert display_name(7, "42") == "7"  # any object: str()
    # The fallback id is cleaned the same way; with nothing visible at all: NO_NAME.
    assert display_name("", "\u202eguest\u0000") == "guest"
    assert display_name("\u200b", "\u200b") == NO_NAME
    assert clean_name(NO_NAME) == NO_NAME


def test_long_names_are_cut_between_grapheme_clusters() -> None:
    assert MAX_NAME_LENGTH == 80
    assert clean_name("a" * 100) == "a" * 80
    assert clean_name("a" * 79 + " b") == "a" * 79  # no trailing space
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert clean_name("a" * 78 + family) == "a" * 78  # the whole sequence or none of it
    assert clean_name("a" * 75 + family) == "a" * 75 + family
    flags = "\U0001f1e9\U0001f1ea\U0001f1eb\U0001f1f7"  # DE FR
    assert clean_name("a" * 77 + flags) == "a" * 77 + flags[:2]  # never half a flag
    assert clean_name("a" * 78 + flags) == "a" * 78 + flags[:2]
    assert clean_name("a" * 79 + "q\u0307\u0323") == "a" * 79  # marks stay with letters
    assert clean_name("a" * 79 + "e\u0323\u0302") == "a" * 79 + "\u1ec7"  # one in NFC
    assert clean_name("a" * 78 + "\U0001f44d\U0001f3fd") == "a" * 78 + "\U0001f44d\U0001f3fd"
    assert clean_name("a" * 79 + "\U0001f44d\U0001f3fd") == "a" * 79
    assert clean_name("a" * 78 + "1\ufe0f\u20e3") == "a" * 78
    # One cluster longer than the limit is cut inside it (nothing else to do).
    assert len(clean_name("e" + "\u0301" * 100)) == 80
    assert len(clean_name("x" * 10, max_length=4)) == 4


def test_bidi_controls_are_the_uax9_explicit_formatting_characters() -> None:
    assert sorted(map(ord, BIDI_CONTROLS)) == [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]
    for char in BIDI_CONTROLS:
        kind = unicodedata.bidirectional(char)
        assert kind in {"LRE", "RLE", "PDF", "LRO", "RLO", "LRI", "RLI", "FSI", "PDI"}
    assert BIDI_CONTROLS <= NAME_STRIPPED_FORMATS
    assert not {"\u200e", "\u200f", "\u061c"} & NAME_STRIPPED_FORMATS  # marks stay


# -- properties ---------------------------------------------------------------------------

#: Characters worth mixing into generated text: every kind of trouble the rules know.
SPECIALS = [
    *"\x00\x07\t\n\r\x1b\x7f\x85\x9f \u00a0\u3000\u2028\u2029"
    "\u200b\u200c\u200d\u200e\u200f\u061c\u2060\ufeff\u00ad\u034f\u180e"
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u206a\ufff9"
    "\ufe0e\ufe0f\u20e3\u0301\u0323\u3164\u115f\u1160\uffa0\u2800"
    "e\u00e9a\u05e9\u0627\u4e2d#1",
    *"\ud800\udfff\U0001f468\U0001f1e9\U0001f3fd\U000e0067\U000e007f",
]

TEXTS = st.text(st.one_of(st.sampled_from(SPECIALS), st.characters()), max_size=60)
PROPERTIES = settings(max_examples=400, database=None, deadline=None)


def _controls(text: str) -> set[str]:
    return {c for c in text if unicodedata.category(c) in ("Cc", "Cs")}


@PROPERTIES
@given(TEXTS)
def test_any_accepted_chat_text_is_visible_nfc_and_free_of_controls(text: str) -> None:
    try:
        kept = chat_text(text, max_length=40)
    except TextTooLongError:
        assert len(unicodedata.normalize("NFC", text)) > 40 or len(text) > 160
        return
    except RefusedTextError:
        assert _controls(text) - {"\n", "\t"} or not has_visible(text)
        return
    assert has_visible(kept)
    assert _controls(kept) <= {"\n", "\t"}
    assert kept == unicodedata.normalize("NFC", text)
    assert len(kept) <= 40
    kept.encode("utf-8")  # no lone surrogate


@PROPERTIES
@given(TEXTS, st.integers(min_value=1, max_value=30))
def test_any_name_is_visible_and_safe_or_empty(name: str, limit: int) -> None:
    cleaned = clean_name(name, max_length=limit)
    assert len(cleaned) <= limit
    assert not _controls(cleaned)
    assert not NAME_STRIPPED_FORMATS & set(cleaned)
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
    assert cleaned == "" or has_visible(cleaned)
    assert clean_name(cleaned, max_length=limit) == cleaned
    cleaned.encode("utf-8")
    assert display_name(name, "id", max_length=limit) == (cleaned or "id"[:limit])
