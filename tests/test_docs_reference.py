"""The hand-written references say what the code has, no more, no less:

- ``docs/configuration.md`` has one row per key of ``config.py`` (``DEFAULTS``),
  with its default, and no other key; no page of the docs names a key that does not
  exist;
- ``docs/widget.md`` documents each attribute, method, property and event of the
  ``<video-chat>`` element as ``js/element.js`` defines them (and its JSDoc
  describes them), and nothing else; ``index.js`` exports what the page says;
- every public name of the test kit, and each public member of its classes, has a
  docstring (the API reference lists them all);
- ``CHANGELOG.md`` is in the Pallets form: ``## Version X.Y.Z`` sections, each
  saying ``Unreleased`` or ``Released YYYY-MM-DD``, the newest first and for the
  package's version, then bullets.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import flask_videochat
import flask_videochat.testing as kit
from flask_videochat.config import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
JS = ROOT / "flask_videochat" / "web" / "static" / "videochat" / "js"

# -- reading Markdown tables -----------------------------------------------------------


def section(text: str, heading: str) -> str:
    """The text under ``heading`` (a whole heading line, ``## Methods``) up to the
    next heading of the same or a higher level."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = text.splitlines()
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines))
                if re.match(rf"#{{1,{level}}} ", lines[i])), len(lines))
    return "\n".join(lines[start:end])


def first_cells(text: str) -> list[str]:
    """The first cell of each body row of the Markdown tables in ``text``."""
    cells = []
    rows = [line for line in text.splitlines() if line.startswith("|")]
    for i, row in enumerate(rows):
        cell = row.strip("|").split("|")[0].strip()
        header = i + 1 < len(rows) and re.fullmatch(r"[|\s:-]+", rows[i + 1])
        if header or re.fullmatch(r"[\s:-]+", cell):
            continue
        cells.append(cell)
    return cells


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


# -- configuration ---------------------------------------------------------------------


def configuration_rows() -> dict[str, str]:
    """key -> the default column, from docs/configuration.md's table."""
    rows = {}
    for line in (DOCS / "configuration.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 3 and re.fullmatch(r"`VIDEOCHAT_\w+`", cells[0]):
            key = cells[0].strip("`")
            assert key not in rows, f"{key} has two rows in docs/configuration.md"
            rows[key] = cells[1]
    return rows


def test_configuration_page_has_one_row_per_key_and_no_other() -> None:
    rows = configuration_rows()
    assert sorted(set(DEFAULTS) - set(rows)) == [], "keys missing from docs/configuration.md"
    assert sorted(set(rows) - set(DEFAULTS)) == [], "docs/configuration.md has keys config.py lacks"


def test_configuration_page_gives_each_default_as_config_py_has_it() -> None:
    for key, cell in configuration_rows().items():
        written = ast.literal_eval(cell.strip("`"))
        assert written == DEFAULTS[key] and type(written) is type(DEFAULTS[key]), (
            f"docs/configuration.md: {key} defaults to {cell}, config.py to {DEFAULTS[key]!r}"
        )


def test_no_page_names_a_key_that_does_not_exist() -> None:
    pages = [*sorted(DOCS.glob("*.md")), ROOT / "README.md", ROOT / "CHANGELOG.md"]
    for page in pages:
        # `VIDEOCHAT_*` and `VIDEOCHAT_TURN_*` name groups of keys; $VIDEOCHAT_X is an
        # environment variable (the kit's VIDEOCHAT_CHROMIUM).
        names = set(re.findall(r"(?<![$\w])(VIDEOCHAT_\w*[A-Z0-9])(?![\w*])", page.read_text()))
        assert sorted(names - set(DEFAULTS)) == [], f"{page.name} names keys that do not exist"


# -- the test kit ----------------------------------------------------------------------


def test_every_public_name_of_the_test_kit_has_a_docstring() -> None:
    """docs/api.md lists the kit with its members, documented or not: each needs
    words, or the reference shows a bare signature."""
    bare = []
    for name in kit.__all__:
        value = getattr(kit, name)
        if inspect.isroutine(value) and not inspect.getdoc(value):
            bare.append(name)
        if not inspect.isclass(value):
            continue
        if not inspect.getdoc(value):
            bare.append(name)
        for member, attr in vars(value).items():
            function = attr.fget if isinstance(attr, property) else attr
            function = getattr(function, "__func__", function)
            if not member.startswith("_") and callable(function) and not inspect.getdoc(function):
                bare.append(f"{name}.{member}")
    assert bare == [], "public names of flask_videochat.testing without a docstring"


# -- the <video-chat> element ----------------------------------------------------------

LIFECYCLE = {"constructor", "connectedCallback", "disconnectedCallback",
             "attributeChangedCallback", "adoptedCallback", "observedAttributes"}


def element_api() -> dict[str, set[str]]:
    """The element's public API as js/element.js defines it: ``attributes``
    (``ATTRIBUTES``), ``methods`` and ``properties`` (the class's members without a
    leading underscore, lifecycle callbacks aside; ``static`` ones as
    ``VideoChatElement.name``), ``events`` (its JSDoc's ``@fires``)."""
    source = (JS / "element.js").read_text()
    attributes = re.search(r"export const ATTRIBUTES = Object\.freeze\(\[([^\]]*)\]\)", source)
    assert attributes, "ATTRIBUTES not found in element.js"
    body = source[source.index("export class VideoChatElement"):]
    methods, properties = set(), set()
    for match in re.finditer(r"^  (static )?(async )?(get |set )?([A-Za-z]\w*)\(", body, re.M):
        static, _, accessor, name = match.groups()
        if name in LIFECYCLE:
            continue
        before = body[: match.start()].rstrip()
        assert before.endswith("*/"), f"element.js: {name} has no JSDoc"
        if accessor:
            properties.add(name)
        else:
            methods.add(f"VideoChatElement.{name}" if static else name)
    return {
        "attributes": set(re.findall(r'"([^"]+)"', attributes.group(1))),
        "methods": methods,
        "properties": properties,
        "events": set(re.findall(r"@fires\s+(videochat-[a-z-]+)", source)),
    }


def widget_page() -> dict[str, set[str]]:
    """What docs/widget.md documents, from the first column of its tables."""
    text = (DOCS / "widget.md").read_text()
    found: dict[str, set[str]] = {}
    for kind, heading in [("attributes", "## Attributes"), ("methods", "## Methods"),
                          ("properties", "## Properties"), ("events", "## Events")]:
        names = set()
        for cell in first_cells(section(text, heading)):
            spans = code_spans(cell)
            assert spans, f"docs/widget.md, {heading}: a row names nothing in code: {cell!r}"
            names.update(span.split("(")[0] for span in spans)
        found[kind] = names
    return found


def test_widget_page_documents_the_element_api_and_nothing_else() -> None:
    code, page = element_api(), widget_page()
    for kind in code:
        assert code[kind], f"no {kind} found in element.js"
        assert sorted(code[kind] - page[kind]) == [], f"{kind} missing from docs/widget.md"
        assert sorted(page[kind] - code[kind]) == [], f"docs/widget.md has {kind} element.js lacks"


def test_element_jsdoc_lists_every_attribute_and_event_the_element_has() -> None:
    source = (JS / "element.js").read_text()
    jsdoc = source[: source.index("export class VideoChatElement")]
    jsdoc = jsdoc[jsdoc.rindex("/**"):]
    code = element_api()
    undocumented = sorted(a for a in code["attributes"] if f"`{a}`" not in jsdoc)
    assert undocumented == [], "attributes missing from the class's JSDoc"
    fired = set()
    for module in JS.glob("*.js"):
        fired.update(f"videochat-{name}" for name in
                     re.findall(r"\bfire\(\s*\"([a-z-]+)\"", module.read_text()))
    assert sorted(fired ^ code["events"]) == [], "@fires and the events fired differ"


def test_index_exports_what_the_widget_page_says() -> None:
    source = (JS / "index.js").read_text()
    exports = set()
    for group in re.findall(r"^export\s*\{([^}]*)\}", source, re.M):
        exports.update(name.strip().split(" as ")[-1] for name in group.split(",") if name.strip())
    exports.update(re.findall(r"^export\s+(?:class|function|const|let)\s+(\w+)", source, re.M))
    assert exports == {"VideoChatElement"}
    page = (DOCS / "widget.md").read_text()
    assert "`index.js` exports only `VideoChatElement`" in page


# -- the changelog --------------------------------------------------------------------


def test_changelog_is_in_pallets_form() -> None:
    lines = (ROOT / "CHANGELOG.md").read_text().splitlines()
    headings = [i for i, line in enumerate(lines) if line.startswith("## ")]
    assert headings, "CHANGELOG.md has no version"
    versions = []
    for n, i in enumerate(headings):
        match = re.fullmatch(r"## Version (\d+\.\d+\.\d+)", lines[i])
        assert match, f"CHANGELOG.md:{i + 1}: not '## Version X.Y.Z': {lines[i]!r}"
        assert lines[i + 1] == "", f"CHANGELOG.md:{i + 2}: a blank line after the heading"
        status = lines[i + 2]
        assert status == "Unreleased" or re.fullmatch(r"Released \d{4}-\d{2}-\d{2}", status), (
            f"CHANGELOG.md:{i + 3}: 'Unreleased' or 'Released YYYY-MM-DD', not {status!r}"
        )
        assert status != "Unreleased" or n == 0, "only the newest version may be unreleased"
        end = headings[n + 1] if n + 1 < len(headings) else len(lines)
        body = [line for line in lines[i + 3 : end] if line.strip()]
        assert body and body[0].startswith("- "), f"CHANGELOG.md:{i + 1}: no bullets"
        assert all(line.startswith(("- ", "  ")) for line in body), (
            f"CHANGELOG.md, version {match.group(1)}: only bullets (continued by indenting)"
        )
        versions.append(tuple(int(part) for part in match.group(1).split(".")))
    assert versions == sorted(versions, reverse=True), "versions newest first"
    assert lines[headings[0]] == f"## Version {flask_videochat.__version__}"
