"""Sphinx configuration: the docs/*.md pages through MyST, the API reference from
the docstrings (autodoc), the configuration keys from ``config.py``'s ``#:``
comments (``_ext/videochat_reference.py``). Build with warnings as errors::

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

import flask_videochat

project = "flask-videochat"
copyright = "flask-videochat contributors"
release = flask_videochat.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "videochat_reference",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]

# Links such as [limits](protocol.md#limits) name a heading by its GitHub slug.
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]

# Every reference must resolve (-n): a docstring naming something the reference
# does not have fails the build. These are other projects' objects (the docs are
# built offline, without intersphinx).
nitpicky = True
nitpick_ignore = [
    ("py:class", "Flask"),
    ("py:class", "flask.app.Flask"),
    ("py:func", "flask.url_for"),
    ("py:class", "SocketIO"),
    ("py:class", "flask_socketio.SocketIO"),
    ("py:class", "markupsafe.Markup"),
    ("py:class", "pathlib.Path"),
    ("py:class", "os.PathLike"),
    ("py:mod", "unicodedata"),
    # Playwright's, named in the kit's type hints
    ("py:class", "Browser"),
    ("py:class", "BrowserContext"),
    ("py:class", "Locator"),
    ("py:class", "Page"),
    ("py:class", "Playwright"),
    ("py:class", "playwright.sync_api.Page"),
    ("py:exc", "playwright.sync_api.TimeoutError"),
    ("py:exc", "playwright.sync_api.Error"),
    # the kit's alias for a form field's value (str or bool), named in a signature
    ("py:class", "FieldValue"),
]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_typehints_description_target = "documented_params"
autodoc_preserve_defaults = True

html_theme = "alabaster"
html_title = f"flask-videochat {release}"
html_static_path: list[str] = []
