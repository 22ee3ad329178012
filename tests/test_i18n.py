"""The widget's words per locale (docs/i18n.md): the shipped translations match the
English catalogue key for key and placeholder for placeholder; the server picks the
request's locale (``VIDEOCHAT_LOCALE``, Flask-Babel, ``Accept-Language``) and renders
its words into ``widget()`` as JSON data; the host adds or overrides words."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask, render_template_string
from flask_socketio import SocketIO

from flask_videochat import VideoChat
from flask_videochat.web.i18n import SHIPPED, english, placeholders, shipped
from tests.test_extension import Tags


def make_app(babel: str | None = None, **config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="i18n-tests", TESTING=True, **config)
    if babel is not None:
        from flask_babel import Babel

        Babel(app, locale_selector=lambda: babel)
    videochat = VideoChat()
    videochat.identity_loader(lambda: None)
    videochat.init_app(app, SocketIO(app, async_mode="threading"))
    app.add_url_rule("/page", "page", lambda: render_template_string("{{ videochat.widget() }}"))
    return app


def widget_of(app: Flask, **headers: str) -> tuple[dict[str, str | None], dict[str, Any] | None]:
    """The ``<video-chat>`` tag's attributes and the words rendered in it (or None)."""
    html = app.test_client().get("/page", headers=headers).get_data(as_text=True)
    tags = Tags(html)
    (element,) = tags.named("video-chat")
    data = [a for a in tags.named("script") if a.get("type") == "application/json"]
    if not data:
        return element, None
    assert "data-videochat-words" in data[0]
    return element, json.loads(tags.text("script"))


@pytest.mark.parametrize("locale", SHIPPED)
def test_every_english_key_has_a_translation_and_no_other_key(locale: str) -> None:
    words = shipped(locale)
    assert sorted(set(english()) - set(words)) == []
    assert sorted(set(words) - set(english())) == []


@pytest.mark.parametrize("locale", SHIPPED)
def test_translations_keep_the_placeholders_and_plural_forms(locale: str) -> None:
    for key, text in shipped(locale).items():
        base = english()[key]
        assert placeholders(text) == placeholders(base), key
        if isinstance(base, dict):
            assert isinstance(text, dict) and "other" in text, key
        else:
            assert isinstance(text, str), key


@pytest.mark.parametrize("locale", SHIPPED)
def test_no_translation_is_empty_or_left_in_english(locale: str) -> None:
    english_texts = english()
    same = []
    for key, text in shipped(locale).items():
        forms = text.values() if isinstance(text, dict) else [text]
        assert all(form.strip() for form in forms), key
        if text == english_texts[key]:
            same.append(key)
    # Words that are the same in both languages (e.g. "minute" in French) are few.
    assert len(same) <= 3, same


def test_english_is_the_default_and_renders_no_words() -> None:
    element, words = widget_of(make_app())
    assert "lang" not in element and "dir" not in element
    assert words is None


def test_accept_language_picks_german() -> None:
    element, words = widget_of(make_app(), **{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert element["lang"] == "de"
    assert words is not None and words["presence.heading"] == "Jetzt online"


def test_accept_language_picks_the_best_shipped_match() -> None:
    element, words = widget_of(make_app(), **{"Accept-Language": "es, fr;q=0.8, de;q=0.5"})
    assert element["lang"] == "fr"
    assert words is not None and words["controls.hangup"] == "Raccrocher"
    element, words = widget_of(make_app(), **{"Accept-Language": "es"})
    assert (element.get("lang"), words) == (None, None)
    element, _ = widget_of(make_app(), **{"Accept-Language": "fr-CA, en;q=0.5"})
    assert element["lang"] == "fr"  # French before English, though not fr-CA exactly
    element, _ = widget_of(make_app(), **{"Accept-Language": "de;q=0, fr;q=0.1"})
    assert element["lang"] == "fr"  # q=0: not German


def test_a_flask_babel_host_gets_its_locale() -> None:
    app = make_app(babel="fr_FR")
    element, words = widget_of(app, **{"Accept-Language": "de"})
    assert element["lang"] == "fr"
    assert words is not None and words["lobby.join"] == "Rejoindre le salon"


def test_the_locale_setting_wins_and_may_be_a_callable() -> None:
    element, _ = widget_of(make_app(VIDEOCHAT_LOCALE="de"), **{"Accept-Language": "fr"})
    assert element["lang"] == "de"
    element, _ = widget_of(make_app(babel="de", VIDEOCHAT_LOCALE=lambda: "fr"))
    assert element["lang"] == "fr"


def test_the_host_overrides_words_and_adds_a_right_to_left_language() -> None:
    app = make_app(VIDEOCHAT_TRANSLATIONS={
        "de": {"presence.heading": "Wer ist da"},
        "he": {"presence.heading": "מחוברים עכשיו", "state.calling": "מתקשר אל {name}…"},
    })
    _, words = widget_of(app, **{"Accept-Language": "de"})
    assert words is not None and words["presence.heading"] == "Wer ist da"
    assert words["lobby.join"] == "Raum beitreten"  # the rest stays shipped
    element, words = widget_of(app, **{"Accept-Language": "he-IL"})
    assert (element["lang"], element["dir"]) == ("he", "rtl")
    assert words == {"presence.heading": "מחוברים עכשיו", "state.calling": "מתקשר אל {name}…"}


def test_rendered_words_cannot_end_their_script() -> None:
    app = make_app(VIDEOCHAT_TRANSLATIONS={"de": {"presence.heading": "</script><b>&"}})
    html = app.test_client().get("/page", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert "</script><b>" not in html
    _, words = widget_of(app, **{"Accept-Language": "de"})
    assert words is not None and words["presence.heading"] == "</script><b>&"


@pytest.mark.parametrize(("translations", "message"), [
    ({"de": {"no.such.key": "x"}}, "unknown key 'no.such.key'"),
    ({"de": {"state.calling": "{who} wird angerufen"}}, "unknown placeholders ['who']"),
    ({"de": {"lobby.join": ""}}, "'lobby.join' is empty"),
    ({"de": {"room.people": "Leute"}}, "plural forms"),
    ({"de": "Hallo"}, "must be a mapping"),
])
def test_translations_that_cannot_work_fail_at_start_up(translations: Any, message: str) -> None:
    with pytest.raises(ValueError, match="VIDEOCHAT_TRANSLATIONS") as raised:
        make_app(VIDEOCHAT_TRANSLATIONS=translations)
    assert message in str(raised.value)


def test_a_locale_setting_of_the_wrong_type_fails_at_start_up() -> None:
    with pytest.raises(ValueError, match="VIDEOCHAT_LOCALE"):
        make_app(VIDEOCHAT_LOCALE=42)


def test_the_room_page_is_in_the_request_language() -> None:
    app = make_app()
    html = app.test_client().get("/videochat/rooms/standup", headers={"Accept-Language": "fr"})
    (page,) = Tags(html.get_data(as_text=True)).named("html")
    assert page["lang"] == "fr"


def test_the_locale_helper_names_the_request_locale() -> None:
    app = make_app()
    app.add_url_rule("/lang", "lang", lambda: render_template_string("{{ videochat.locale() }}"))
    client = app.test_client()
    assert client.get("/lang", headers={"Accept-Language": "fr-CA, en;q=0.5"}).text == "fr"
    assert client.get("/lang").text == "en"


def test_the_example_site_takes_the_language_from_the_address(tmp_path, monkeypatch) -> None:
    from example_site.app import create_app
    from tests.test_example_site import sign_in

    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("VIDEOCHAT_STORE_URL", raising=False)
    site = create_app({"TESTING": True, "VIDEOCHAT_ICE_SERVERS": []},
                      async_mode="threading", instance_path=str(tmp_path))
    client = site.test_client()
    sign_in(client, "Ada")
    tags = Tags(client.get("/?lang=de&dir=rtl", headers={"Accept-Language": "fr"}).text)
    (page,) = tags.named("html")
    assert (page["lang"], page["dir"]) == ("de", "rtl")
    (element,) = tags.named("video-chat")
    assert element["lang"] == "de"
    (page,) = Tags(client.get("/", headers={"Accept-Language": "fr"}).text).named("html")
    assert page["lang"] == "fr" and "dir" not in page


def test_the_room_page_and_noscript_speak_the_request_language() -> None:
    app = make_app()
    client = app.test_client()
    tags = Tags(client.get("/videochat/rooms/standup", headers={"Accept-Language": "de"}).text)
    assert tags.text("title") == "standup · Videoraum"
    assert "Teilen Sie die Adresse dieser Seite" in tags.text("body")
    assert Tags(client.get("/page", headers={"Accept-Language": "fr"}).text).text("noscript") == (
        "Les appels vidéo nécessitent JavaScript.")
    assert Tags(client.get("/page").text).text("noscript") == "Video calls need JavaScript."
