"""Sphinx directives that write parts of the API reference from the code itself, so
that the reference cannot drift from it:

``videochat-config-keys``
    One ``py:data`` entry per key of :data:`flask_videochat.config.DEFAULTS`, in
    that order, made by autodoc from the key's ``#:`` comment in ``config.py`` (its
    type and default shown). Warns (an error under ``-W``) when a ``VIDEOCHAT_*``
    name of ``config.py`` is not in ``DEFAULTS``, or the other way round, or when a
    key has no ``#:`` comment.
``videochat-signals``
    One entry per blinker signal of :mod:`flask_videochat.signals`, in source order,
    from its ``#:`` comment. Warns when a signal has none.
``videochat-module-data MODULE``
    One ``py:data`` entry per constant of ``MODULE.__all__``, with the ``#:``
    comment of the submodule defining it. Warns when one has none.
``videochat-fixtures MODULE``
    One ``fixture`` entry (a new object type, with a ``:fixture:`` role) per pytest
    fixture found in ``MODULE``: its docstring, scope and the fixtures it uses.
    Warns when there is none, or a fixture has no docstring.

And a reference to where a public object is defined resolves to its public name's
entry (:func:`resolve_public_name`).
"""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

log = logging.getLogger(__name__)

CONFIG_MODULE = "flask_videochat.config"
SIGNALS_MODULE = "flask_videochat.signals"
PREFIX = "VIDEOCHAT_"


def attribute_docs(module: str) -> dict[str, list[str]]:
    """The ``#:`` comments (and docstrings after assignments) of a module's
    top-level names: ``name -> lines``."""
    analyzer = ModuleAnalyzer.for_module(module)
    return {name: lines for (scope, name), lines in analyzer.find_attr_docs().items()
            if scope == ""}


def config_key_problems() -> tuple[list[str], list[str]]:
    """``(keys, problems)``: the keys of ``DEFAULTS`` in order, and what is wrong
    between them, the ``VIDEOCHAT_*`` names of ``config.py`` and their comments."""
    config = importlib.import_module(CONFIG_MODULE)
    keys = list(config.DEFAULTS)
    names = {name for name in vars(config) if name.startswith(PREFIX)}
    docs = attribute_docs(CONFIG_MODULE)
    problems = [f"{name} is in config.py but not in DEFAULTS" for name in sorted(names - set(keys))]
    problems += [f"DEFAULTS has {key}, which config.py does not define"
                 for key in keys if key not in names]
    problems += [f"{key} has no #: comment in config.py" for key in keys
                 if key in names and not any(line.strip() for line in docs.get(key, []))]
    return keys, problems


class _Generated(SphinxDirective):
    """A directive whose content is reStructuredText made from the code."""

    def lines(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        source = self.get_location()
        content = StringList()
        for line in self.lines():
            content.append(line, source)
        node = nodes.container()
        nested_parse_with_titles(self.state, content, node)
        return node.children

    def warn(self, message: str) -> None:
        log.warning(message, location=self.get_location())


class ConfigKeys(_Generated):
    """``videochat-config-keys``: every configuration key, from ``config.py``."""

    def lines(self) -> list[str]:
        keys, problems = config_key_problems()
        for problem in problems:
            self.warn(f"configuration keys: {problem}")
        self.env.note_dependency(inspect.getfile(importlib.import_module(CONFIG_MODULE)))
        out = [f".. currentmodule:: {CONFIG_MODULE}", ""]
        for key in keys:
            out += [f".. autodata:: {key}", ""]
        return out


class Signals(_Generated):
    """``videochat-signals``: every blinker signal of the signals module."""

    def lines(self) -> list[str]:
        from blinker import NamedSignal

        module = importlib.import_module(SIGNALS_MODULE)
        self.env.note_dependency(inspect.getfile(module))
        docs = attribute_docs(SIGNALS_MODULE)
        analyzer = ModuleAnalyzer.for_module(SIGNALS_MODULE)
        analyzer.analyze()
        order = analyzer.tagorder
        names = sorted((name for name, value in vars(module).items()
                        if isinstance(value, NamedSignal) and not name.startswith("_")),
                       key=lambda name: order.get(name, 0))
        out = [f".. currentmodule:: {SIGNALS_MODULE}", ""]
        for name in names:
            if not docs.get(name):
                self.warn(f"signal {name} has no #: comment in signals.py")
            out += [f".. autodata:: {name}", "   :no-value:", ""]
        return out


class ModuleData(_Generated):
    """``videochat-module-data MODULE``: the constants of ``MODULE.__all__`` (names
    that are neither classes, functions nor modules), each with the ``#:`` comment
    of the submodule that defines it."""

    required_arguments = 1

    def lines(self) -> list[str]:
        name = self.arguments[0]
        module = importlib.import_module(name)
        out = [f".. currentmodule:: {name}", ""]
        for attr in module.__all__:
            value = getattr(module, attr)
            if inspect.isclass(value) or inspect.isroutine(value) or inspect.ismodule(value):
                continue
            doc = self._doc_of(module, attr, value)
            if not doc:
                self.warn(f"{name}.{attr} has no #: comment where it is defined")
            out += [f".. data:: {attr}", f"   :value: {value!r}", ""]
            out += [f"   {line}" if line else "" for line in doc] + [""]
        return out

    def _doc_of(self, module: Any, attr: str, value: Any) -> list[str]:
        """The ``#:`` comment of ``attr`` in ``module`` or the submodule of its
        package that binds the same object to that name."""
        inside = module.__name__ + "."
        candidates = [module.__name__, *sorted(
            other.__name__ for other in list(sys.modules.values())
            if getattr(other, "__name__", "").startswith(inside)
            and getattr(other, attr, None) is value
        )]
        for candidate in candidates:
            doc = attribute_docs(candidate).get(attr)
            if doc and any(line.strip() for line in doc):
                self.env.note_dependency(inspect.getfile(sys.modules[candidate]))
                return list(doc)
        return []


def _fixture(value: Any) -> tuple[Any, str] | None:
    """``(function, scope)`` of a pytest fixture, or ``None`` for anything else
    (pytest >= 8.4 wraps fixtures in ``FixtureFunctionDefinition``; older versions
    mark the function)."""
    marker = getattr(value, "_fixture_function_marker", None)
    if marker is not None and hasattr(value, "_get_wrapped_function"):
        return value._get_wrapped_function(), marker.scope
    marker = getattr(value, "_pytestfixturefunction", None)
    if marker is not None:
        return value, marker.scope
    return None


class Fixtures(_Generated):
    """``videochat-module-data MODULE``
    One ``py:data`` entry per constant of ``MODULE.__all__``, with the ``#:``
    comment of the submodule defining it. Warns when one has none.
``videochat-fixtures MODULE``: every pytest fixture of ``MODULE``."""

    required_arguments = 1

    def lines(self) -> list[str]:
        module = importlib.import_module(self.arguments[0])
        self.env.note_dependency(inspect.getfile(module))
        found = []
        for name, value in vars(module).items():
            fixture = _fixture(value)
            if fixture is not None:
                function, scope = fixture
                found.append((inspect.getsourcelines(function)[1], name, function, scope))
        if not found:
            self.warn(f"no pytest fixture in {self.arguments[0]}")
        out: list[str] = []
        for _line, name, function, scope in sorted(found, key=lambda f: (f[0], f[1])):
            doc = inspect.getdoc(function)
            if not doc:
                self.warn(f"fixture {name} has no docstring")
            uses = [p for p in inspect.signature(function).parameters if p != "request"]
            out += [f".. fixture:: {name}", ""]
            out += [f"   {line}" if line else "" for line in (doc or "").splitlines()]
            out += ["", f"   Scope: ``{scope}``."]
            if uses:
                out += ["   Uses: " + ", ".join(f"``{p}``" for p in uses) + "."]
            out += [""]
        return out


#: Modules whose ``__all__`` names are documented under the module's own name
#: (``flask_videochat.User``, not ``flask_videochat.core.presence.User``).
PUBLIC_MODULES = ("flask_videochat", "flask_videochat.testing")


def resolve_public_name(app: Sphinx, env: Any, node: Any, contnode: nodes.Element) -> Any:
    """``missing-reference``: a Python reference to where a public object is defined
    (``flask_videochat.core.calls.EndReason``, as docstrings and type hints name it)
    resolves to the entry of its public name (``flask_videochat.EndReason``)."""
    if node.get("refdomain") != "py":
        return None
    module_name, _, name = node["reftarget"].rpartition(".")
    if not module_name.startswith("flask_videochat."):
        return None
    try:
        value = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        return None
    for public in PUBLIC_MODULES:
        module = importlib.import_module(public)
        if name in getattr(module, "__all__", ()) and getattr(module, name) is value:
            return env.get_domain("py").resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], f"{public}.{name}",
                node, contnode)
    return None


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx.ext.autodoc")
    app.add_object_type("fixture", "fixture", objname="pytest fixture",
                        indextemplate="pair: %s; pytest fixture")
    app.add_directive("videochat-config-keys", ConfigKeys)
    app.add_directive("videochat-signals", Signals)
    app.add_directive("videochat-fixtures", Fixtures)
    app.add_directive("videochat-module-data", ModuleData)
    app.connect("missing-reference", resolve_public_name)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
