"""The widget's icons: every vendored Lucide file has its rule in ``css/icons.css``,
every rule points at a vendored file, every icon the JavaScript names has a rule,
and the files are Lucide's, unchanged (its licence header, stroke in currentColor)."""

from __future__ import annotations

import re
from pathlib import Path

import flask_videochat

STATIC = Path(flask_videochat.__file__).resolve().parent / "web" / "static" / "videochat"
LUCIDE = STATIC / "vendor" / "lucide"
RULE = re.compile(r'\.vc-i-([a-z0-9-]+) \{ --vc-icon: url\("\.\./vendor/lucide/([a-z0-9-]+)\.svg"\); \}')
#: icon("name") and setIcon(x, "name") in the widget's modules, and icon names in
#: view objects (`icon: "name"`).
USE = re.compile(r'(?:\bicon\(|setIcon\([^,]+,\s*|\bicon:\s*)"([a-z0-9-]+)"')


def rules() -> dict[str, str]:
    text = (STATIC / "css" / "icons.css").read_text()
    found = RULE.findall(text)
    assert len(found) == text.count(".vc-i-"), "every .vc-i- rule has the one shape"
    return dict(found)


def test_every_vendored_icon_has_its_rule_and_every_rule_its_file() -> None:
    files = {p.stem for p in LUCIDE.glob("*.svg")}
    found = rules()
    assert all(name == file for name, file in found.items())
    assert set(found) == files


def test_every_icon_the_widget_names_exists() -> None:
    used = {name for js in (STATIC / "js").glob("*.js") for name in USE.findall(js.read_text())}
    assert used, "the widget uses icons"
    assert used <= set(rules()), f"no rule for {sorted(used - set(rules()))}"


def test_the_icons_are_lucides_with_their_licence() -> None:
    assert "ISC License" in (LUCIDE / "LICENSE").read_text()
    for svg in LUCIDE.glob("*.svg"):
        text = svg.read_text()
        assert text.startswith("<!-- @license lucide-static v1.87.0 - ISC -->"), svg.name
        assert 'stroke="currentColor"' in text and "<script" not in text, svg.name
