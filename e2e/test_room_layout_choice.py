"""The room's layout, decided by pure functions in the browser: which tile is big
(``view.js``'s ``roomLayout``, and ``widgetView``'s ``room.layout``) and who speaks
(``speaker.js``'s ``nextSpeaker`` and ``audioLevels``), called with the states a
room goes through. No connection, no DOM."""

from __future__ import annotations

from typing import Any

import pytest

_VIEW = "/videochat/static/js/view.js"
_SPEAKER = "/videochat/static/js/speaker.js"
ROOM = {"selfId": "me", "memberIds": ["ada", "bob", "cy"]}


@pytest.fixture
def page(blank_page):
    return blank_page


def layout(page, **room: Any) -> dict[str, Any]:
    return page.evaluate("""async ([url, room]) => (await import(url)).roomLayout(room)""",
                         [_VIEW, {**ROOM, **room}])


def test_grid_view_has_no_big_tile_and_speaker_view_makes_the_speaker_big(page):
    assert layout(page) == {"layout": "grid", "chosen": "grid", "big": None, "pinned": None, "speaker": None}
    assert layout(page, speaker="bob")["big"] is None
    assert layout(page, speaker="bob")["speaker"] == "bob"
    assert layout(page, layout="speaker", speaker="bob")["big"] == "bob"
    # Nobody speaks: whoever spoke last stays big, else the first of the others.
    assert layout(page, layout="speaker", recentSpeaker="cy")["big"] == "cy"
    assert layout(page, layout="speaker")["big"] == "ada"
    # You speaking does not make you big on your own screen; alone, you are.
    assert layout(page, layout="speaker", speaker="me", recentSpeaker="cy")["big"] == "cy"
    assert layout(page, layout="speaker", speaker="me")["speaker"] == "me"
    assert layout(page, layout="speaker", memberIds=[])["big"] == "me"


def test_a_pinned_person_is_big_over_the_speaker_until_unpinned(page):
    pinned = layout(page, pinned="cy", speaker="bob")
    assert pinned == {"layout": "speaker", "chosen": "grid", "big": "cy", "pinned": "cy", "speaker": "bob"}
    assert layout(page, layout="speaker", pinned="cy", speaker="bob")["big"] == "cy"
    # Unpinned: back to the layout chosen.
    assert layout(page, pinned=None, speaker="bob")["layout"] == "grid"
    # Someone who left is neither pinned nor speaking.
    gone = layout(page, pinned="dan", speaker="dan", recentSpeaker="dan")
    assert gone == {"layout": "grid", "chosen": "grid", "big": None, "pinned": None, "speaker": None}
    assert layout(page, layout="speaker", pinned="dan", speaker="dan")["big"] == "ada"


def test_the_widget_view_carries_the_layout_and_its_toggle(page):
    v = page.evaluate("""async (url) => (await import(url)).widgetView({
      connection: "online", self: {id: "me", name: "Me"}, roomAttribute: "r",
      room: {state: "joined", name: "r", members: [{id: "ada", name: "Ada", mic: true, cam: true}]},
      roomLayout: {layout: "grid", pinned: "ada"}})""", _VIEW)
    lay = v["room"]["layout"]
    assert (lay["layout"], lay["big"], lay["pinned"]) == ("speaker", "ada", "ada")
    assert [(o["layout"], o["text"], o["icon"], o["pressed"]) for o in lay["options"]] == [
        ("grid", "Grid", "layout-grid", False), ("speaker", "Speaker", "presentation", True)]
    assert all(o["label"] for o in lay["options"])


def speakers(page, samples: list[tuple[int, dict[str, float]]]) -> list[str | None]:
    """Who speaks after each (time in ms, levels) sample, from nobody."""
    return page.evaluate("""async ([url, samples]) => {
      const { nextSpeaker, NO_SPEAKER } = await import(url);
      let state = NO_SPEAKER;
      return samples.map(([now, levels]) => (state = nextSpeaker(state, levels, now)).id);
    }""", [_SPEAKER, samples])


def test_the_loudest_above_the_threshold_speaks_and_holds_through_pauses(page):
    quiet = {"ada": 0.0, "bob": 0.005}
    assert speakers(page, [(0, quiet), (250, quiet)]) == [None, None]
    got = speakers(page, [(0, {"ada": 0.1, "bob": 0.3}), (250, {"ada": 0.0, "bob": 0.0}),
                          (1250, {"ada": 0.0, "bob": 0.0}), (2000, {"ada": 0.0, "bob": 0.0})])
    # Bob, the louder, speaks; a pause of a second keeps him; silence past the hold ends it.
    assert got == ["bob", "bob", "bob", None]


def test_no_flicker_between_two_voices(page):
    # Both speak: Bob, who spoke first, keeps it while he goes on; Ada takes over
    # only once he has been quiet a while.
    got = speakers(page, [(0, {"ada": 0.0, "bob": 0.1}), (250, {"ada": 0.4, "bob": 0.0}),
                          (500, {"ada": 0.4, "bob": 0.1}), (750, {"ada": 0.4, "bob": 0.0}),
                          (1000, {"ada": 0.4, "bob": 0.0}), (1400, {"ada": 0.4, "bob": 0.0})])
    assert got == ["bob", "bob", "bob", "bob", "bob", "ada"]
    # Someone who left stops speaking at once.
    assert speakers(page, [(0, {"bob": 0.3}), (250, {"ada": 0.3})]) == ["bob", "ada"]


def test_levels_come_from_the_energy_between_two_samples(page):
    levels = page.evaluate("""async (url) => (await import(url)).audioLevels(
      {bob: {energy: 1.0, duration: 10}, cy: {energy: 2, duration: 5}},
      {bob: {energy: 1.04, duration: 11}, cy: {energy: 2, duration: 6}, new: {energy: 3, duration: 1}})""",
                           _SPEAKER)
    assert levels == {"bob": pytest.approx(0.2), "cy": 0, "new": 0}
