"""Accessibility, measured: axe-core (e2e/vendor/axe.min.js) finds no serious or
critical violation in any scene of the widget (scenes.py), the keyboard reaches
every control of a call, and the status line is a live region whose words change.

axe looks into the widget's open shadow root by itself; it is told to check the
``<video-chat>`` element only (the host page is the site's business).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.scenes import SCENES, Cast, in_call
from flask_videochat.testing import VideoChatPage

AXE = Path(__file__).parent / "vendor" / "axe.min.js"

#: The impacts a test fails on; the others are printed with them.
BLOCKING = {"serious", "critical"}

_AXE_JS = """async el => {
  const result = await axe.run(el, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary})),
  }));
}"""

#: In a page: number every control a person could use in the widget (shown, enabled,
#: focusable), and return their descriptions by number.
_CONTROLS_JS = """host => {
  const selector = "button, input, select, textarea, a[href], [tabindex]:not([tabindex='-1'])";
  const found = [];
  for (const el of host.shadowRoot.querySelectorAll(selector)) {
    if (el.disabled || !el.checkVisibility({visibilityProperty: true})) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    el.__vcControl = found.length;
    const label = el.getAttribute("aria-label");
    found.push(el.dataset.testid || label || `${el.tagName} ${el.textContent}`);
  }
  return found;
}"""

#: In a page: the number :data:`_CONTROLS_JS` gave the control focused in the widget;
#: -1 for an element it did not number; null when the focus is outside the widget.
_FOCUSED_JS = """host => {
  if (document.activeElement !== host) return null;
  const el = host.shadowRoot.activeElement;
  return el && el.__vcControl !== undefined ? el.__vcControl : -1;
}"""


@pytest.fixture
def cast(scene_browser, example_site, names):
    cast = Cast(scene_browser, example_site.url, names)
    cast.bypass_csp = True  # for axe-core's inline <style>
    yield cast
    cast.close()


def violations(person: VideoChatPage) -> list[dict]:
    """axe-core's violations in the widget of ``person``'s page."""
    person.page.add_script_tag(path=str(AXE))
    return person.element.evaluate(_AXE_JS)  # type: ignore[no-any-return]


def describe(found: list[dict]) -> str:
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            lines.append(f"    at {node['target']}: {node['summary']}".replace("\n", " / "))
    return "\n".join(lines)


@pytest.mark.parametrize("scene", list(SCENES))
def test_no_serious_or_critical_axe_violation(cast, scene):
    person = SCENES[scene](cast)
    found = violations(person)
    print(describe(found))  # the minor ones too, for whoever reads the log
    blocking = [v for v in found if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core in scene {scene!r}:\n{describe(found)}"


def test_the_keyboard_reaches_every_control_in_a_call(cast):
    ada = in_call(cast)
    host = ada.element.element_handle()
    controls = ada.page.evaluate(_CONTROLS_JS, host)
    assert {"videochat-hangup", "videochat-mute", "videochat-chat-input"} <= set(controls)

    # From the top of the page, Tab into the widget, then on until the focus leaves it.
    ada.page.evaluate("() => document.activeElement?.blur()")
    reached: list[int] = []
    entered = False
    for _ in range(len(controls) + 40):
        ada.page.keyboard.press("Tab")
        focused = ada.page.evaluate(_FOCUSED_JS, host)
        if focused is None and entered:
            break
        if focused is not None:
            entered = True
            reached.append(focused)
    missed = [name for i, name in enumerate(controls) if i not in reached]
    assert entered, "Tab never reached the widget"
    names = [controls[i] for i in reached if i >= 0]
    assert not missed, f"Tab does not reach {missed} (reached {names})"


def test_status_changes_are_announced_in_a_live_region(cast):
    ada, bob = cast.person("Ada"), cast.person("Bob")
    for person in (ada, bob):
        expect(person.status).to_have_attribute("aria-live", re.compile("^(polite|assertive)$"))
        expect(person.status).to_be_visible()
    ada.call(ada.user_id_of(cast.names("Bob")))
    ada.expect_status("Ringing")
    ringing = ada.status.text_content()
    bob.expect_ringing(cast.names("Ada"))
    bob.accept()
    expect(ada.status).not_to_have_text(ringing or "")
    ada.expect_status("In call")
    # Still the live region, and still shown: a screen reader hears the change.
    expect(ada.status).to_have_attribute("aria-live", re.compile("^(polite|assertive)$"))
    expect(ada.status).to_be_visible()
