"""Screenshots as a check: every scene of the widget (scenes.py) on a laptop and a
phone screen (scenes.VIEWPORTS), where nothing of the widget sticks out of its
container and no text is cut but where it is deliberately ellipsised; each is
written to docs/screenshots/SCENE-WIDTHxHEIGHT.png for people to look at.

"Sticks out": a shown element's box is not inside its parent's box (its containing
block's, when absolutely placed), or not inside
its nearest clipping ancestor's (overflow other than visible), or the widget is not
inside the window's width. "Cut": an element's content is wider than its box
(``scrollWidth > clientWidth``), or taller where it clips vertically, or a select's
chosen option is wider than the select and not ellipsised.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.scenes import SCENES, VIEWPORTS, Cast

SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"

#: Classes of elements that cut their text with an ellipsis on purpose (a long
#: name on a narrow tile or stage): these may be narrower than their text. Names in
#: the online list and the participant list are not among them: they are whole.
ELLIPSISED = ("vc-me", "vc-peer-name", "vc-preview-label", "vc-tile-name")

#: Pixels a box may pass its container's edge by (sub-pixel rounding).
SLACK = 1

#: In a page: what sticks out or is cut in the widget ``host``; ``allowed``: the
#: classes of :data:`ELLIPSISED`. Each problem is one line of words.
_LAYOUT_JS = """([host, allowed, slack]) => {
  const problems = [];
  const name = (el) => {
    const id = el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : "";
    const cls = el.classList.length ? "." + [...el.classList].join(".") : "";
    const text = (el.textContent || "").trim().slice(0, 30);
    return `<${el.tagName.toLowerCase()}${id}${cls}>${text ? ` "${text}"` : ""}`;
  };
  const px = Math.round;
  const box = (r) => `${px(r.left)},${px(r.top)} ${px(r.width)}x${px(r.height)}`;
  const outside = (r, c) =>
    Math.max(c.left - r.left, r.right - c.right, c.top - r.top, r.bottom - c.bottom);
  const clips = (el) => {
    const style = getComputedStyle(el);
    return style.overflowX !== "visible" || style.overflowY !== "visible";
  };
  // In the top layer (the ring's modal dialog, the enlarged call's popover): placed
  // against the window, not inside the widget.
  const topLayer = (el) => el.matches(":modal, :popover-open");
  const w = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
  const shown = (el) => {
    // Words for screen readers only are 1 px on purpose.
    if (el.classList.contains("vc-sr")) return false;
    if (!el.checkVisibility({visibilityProperty: true})) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const container = host.shadowRoot.querySelector(".vc");
  const c = container.getBoundingClientRect();
  const windowWidth = document.documentElement.clientWidth;
  if (c.left < -slack || c.right > windowWidth + slack)
    problems.push(`the widget (${box(c)}) is wider than the window (${windowWidth})`);
  for (const el of container.querySelectorAll("*")) {
    if (["STYLE", "LINK", "OPTION"].includes(el.tagName) || !shown(el)) continue;
    const r = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    // An absolutely placed element belongs inside its containing block.
    const placed = ["absolute", "fixed"].includes(style.position) && el.offsetParent;
    const parent = placed ? el.offsetParent : el.parentElement;
    const p = parent.getBoundingClientRect();
    if (topLayer(el)) {
      if (outside(r, w) > slack)
        problems.push(`${name(el)} (${box(r)}) sticks out of the window by ${px(outside(r, w))} px`);
    } else if (getComputedStyle(parent).display !== "contents" && outside(r, p) > slack)
      problems.push(`${name(el)} (${box(r)}) sticks out of its parent ${name(parent)} `
                    + `(${box(p)}) by ${px(outside(r, p))} px`);
    let clip = topLayer(el) ? null : parent;
    while (clip && clip !== container && !clips(clip) && !topLayer(clip)) clip = clip.parentElement;
    if (clip && topLayer(clip) && !clips(clip)) clip = null;
    if (clip && clip !== parent) {
      const k = clip.getBoundingClientRect();
      if (outside(r, k) > slack)
        problems.push(`${name(el)} (${box(r)}) is clipped by ${name(clip)} (${box(k)}) `
                      + `by ${px(outside(r, k))} px`);
    }
    const ellipsised = allowed.some((cls) => el.classList.contains(cls));
    // Content wider than its box is cut where the box clips, and spills where its own
    // text runs out of it. (Not: a tooltip drawn by ::after, shown on hover and focus.)
    const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const clipsX = style.overflowX !== "visible";
    if (!ellipsised && (clipsX || text) && el.scrollWidth > el.clientWidth + slack && el.clientWidth > 0)
      problems.push(`${name(el)} cuts its content: ${el.scrollWidth} px wide `
                    + `in ${el.clientWidth} px`);
    if (el.tagName === "SELECT" && el.selectedOptions.length && style.textOverflow !== "ellipsis") {
      // A select draws its option's text itself: measure it in the select's font.
      const context = document.createElement("canvas").getContext("2d");
      context.font = style.font;
      const text = context.measureText(el.selectedOptions[0].text).width;
      const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
      const room = el.clientWidth - padding;
      if (text > room + slack)
        problems.push(`${name(el)} cuts its option's text: ${px(text)} px wide `
                      + `in ${px(room)} px, with no ellipsis`);
    }
    const clipsY = ["hidden", "clip"].includes(style.overflowY);
    if (clipsY && el.scrollHeight > el.clientHeight + slack && el.clientHeight > 0)
      problems.push(`${name(el)} cuts its content: ${el.scrollHeight} px high `
                    + `in ${el.clientHeight} px`);
  }
  return problems;
}"""

#: In a page: whether the widget shows something in the top layer.
_TOP_LAYER_JS = "el => Boolean(el.shadowRoot.querySelector(':modal, :popover-open'))"

#: A device label longer than any box of the widget (some USB devices and virtual
#: cameras have labels like it).
LONG_LABEL = "Integrated HD Webcam with Dual Array Microphones and Noise Reduction (0c45:6a05)"

#: Before the page's scripts: every device the page lists is labelled
#: ``LABEL`` (ids and kinds stay the browser's own). Format with ``LABEL``.
_LONG_LABELS_JS = """(() => {
  const real = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices);
  navigator.mediaDevices.enumerateDevices = async () => (await real()).map((d) => ({
    deviceId: d.deviceId, groupId: d.groupId, kind: d.kind, label: LABEL,
  }));
})();"""


#: Surnames for the people in the pictures: a role ("Ada") gets the next one in each
#: test, so that no two tests of a session share a person (a name is an id on the
#: example site).
SURNAMES = ("Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad",
            "Kowalski", "Brennan", "Iyer", "Costa", "Nakamura", "Adeyemi", "Fischer")
_tests = itertools.count()


@pytest.fixture
def cast(scene_browser, example_site):
    test = next(_tests)
    offset = {"Ada": 0, "Bob": 5, "Cy": 9}
    cast = Cast(scene_browser, example_site.url,
                lambda role: f"{role} {SURNAMES[(test + offset[role]) % len(SURNAMES)]}")
    yield cast
    cast.close()


def layout_problems(person) -> list[str]:
    """What sticks out or is cut in the widget of ``person``'s page (see the module)."""
    return person.page.evaluate(
        _LAYOUT_JS, [person.element.element_handle(), list(ELLIPSISED), SLACK])


def report(scene: str, found: dict[str, list[str]]) -> str:
    """The problems of ``scene``, by screen size, one a line."""
    return "\n".join(f"{scene} at {size}:\n  " + "\n  ".join(p) for size, p in found.items())


def next_frame(person) -> None:
    """Wait until the page drew a frame: the layout follows a new size by then."""
    person.page.evaluate(
        "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


@pytest.mark.parametrize("scene", list(SCENES))
def test_nothing_sticks_out_or_is_cut(cast, scene):
    person = SCENES[scene](cast)
    found = {}
    SHOTS.mkdir(parents=True, exist_ok=True)
    person.page.mouse.move(0, 0)  # no hover effect from the last click in the pictures
    for size, viewport in VIEWPORTS.items():
        person.page.set_viewport_size(viewport)
        next_frame(person)
        problems = layout_problems(person)
        if problems:
            found[size] = problems
        # What is in the top layer (the ring's dialog, the enlarged call) covers the
        # window, not the widget's box: picture the window then.
        top = person.element.evaluate(_TOP_LAYER_JS)
        (person.page if top else person.element).screenshot(
            path=str(SHOTS / f"{scene}-{size}.png"), animations="disabled")
    assert not found, report(scene, found)


@pytest.mark.parametrize("scene", ["room-lobby", "room-devices"])
def test_long_device_labels_stay_inside_the_device_check(cast, scene):
    cast.init_script = _LONG_LABELS_JS.replace("LABEL", json.dumps(LONG_LABEL))
    person = SCENES[scene](cast)
    expect(person.camera_select.locator("option")).to_have_text([LONG_LABEL])
    expect(person.microphone_select.locator("option").first).to_have_text(LONG_LABEL)
    found = {}
    for size, viewport in VIEWPORTS.items():
        person.page.set_viewport_size(viewport)
        next_frame(person)
        problems = layout_problems(person)
        if problems:
            found[size] = problems
    assert not found, report(scene, found)
