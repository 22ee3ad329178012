"""What went wrong in a person's pages that they may not see: console errors,
uncaught exceptions and Content Security Policy violations, collected per browser
context (one person, every tab) by :class:`ConsoleLog`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence, Union
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page, WebError

#: A substring, or a regular expression searched for, in a problem's text.
Ignore = Union[str, "re.Pattern[str]"]

#: The page-side name of the binding that reports a CSP violation to Python.
_BINDING = "__videochatReportViolation"

#: In every document: report each ``securitypolicyviolation`` (it is composed, so
#: violations inside the widget's shadow tree reach the document too), count them
#: (``window.__videochatViolations.seen``, for a test to wait on), and keep the
#: reports in flight so that :meth:`ConsoleLog.settle` can wait for them.
_LISTEN_JS = """(() => {
  if (window.__videochatViolations) return;
  const inflight = new Set();
  const watch = window.__videochatViolations = {
    seen: 0, settled: () => Promise.all([...inflight]),
  };
  document.addEventListener("securitypolicyviolation", (e) => {
    watch.seen += 1;
    const report = Promise.resolve(window.%(binding)s?.({
      directive: e.effectiveDirective || e.violatedDirective,
      blocked: e.blockedURI, source: e.sourceFile, line: e.lineNumber,
      disposition: e.disposition, sample: e.sample,
    })).catch(() => {});
    inflight.add(report);
    report.finally(() => inflight.delete(report));
  }, true);
})();""" % {"binding": _BINDING}


@dataclass(frozen=True)
class PageProblem:
    """One thing that went wrong in a page.

    :param kind: ``"console"`` (a ``console.error``, or an error the browser logged:
        a failed load, a refused resource), ``"pageerror"`` (an uncaught exception
        or unhandled rejection) or ``"csp"`` (a ``securitypolicyviolation`` event).
    :param text: the message; for ``"csp"``, the directive, the blocked URI and
        where (``"script-src-elem blocked inline at http://…/:12"``).
    :param url: the page's URL when it happened (``""`` if unknown).
    """

    kind: str
    text: str
    url: str = ""

    def __str__(self) -> str:
        return f"[{self.kind}] {self.text}" + (f" ({self.url})" if self.url else "")


class ConsoleLog:
    """Console errors (``console`` events of type ``error``, but a missing
    ``/favicon.ico``, which Chromium asks every site for by itself), uncaught
    exceptions (``weberror``) and CSP violations (``securitypolicyviolation`` DOM
    events) of every page of one browser context, from the moment it is made: make it before
    opening pages (:func:`watch_console` does, once per context). Pages already open
    get the violation listener too, but earlier messages are lost.

    :ivar problems: every :class:`PageProblem`, in the order seen.
    """

    def __init__(self, context: BrowserContext) -> None:
        self.problems: list[PageProblem] = []
        context.on("console", self._console)
        context.on("weberror", self._web_error)
        context.expose_binding(_BINDING, self._violation)
        context.add_init_script(_LISTEN_JS)
        for page in context.pages:
            page.evaluate(_LISTEN_JS)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            if urlsplit(where).path == "/favicon.ico" and message.text.startswith(
                    "Failed to load resource"):
                return  # Chromium asks every site for one by itself; no page did
            self.problems.append(PageProblem("console", message.text, where))

    def _web_error(self, error: WebError) -> None:
        url = error.page.url if error.page is not None else ""
        self.problems.append(PageProblem("pageerror", str(error.error), url))

    def _violation(self, source: dict[str, Any], report: dict[str, Any]) -> None:
        where = report.get("source") or ""
        if where and report.get("line"):
            where = f"{where}:{report['line']}"
        text = f"{report.get('directive')} blocked {report.get('blocked') or 'inline'}"
        if report.get("disposition") == "report":
            text += " (report-only)"
        if where:
            text += f" at {where}"
        page = source.get("page")
        self.problems.append(PageProblem("csp", text, page.url if page is not None else ""))

    def settle(self, page: Page) -> None:
        """Wait until every violation ``page``'s current document has seen has
        reached ``problems`` (console messages and exceptions sent before this
        round trip have arrived too)."""
        page.evaluate("() => window.__videochatViolations?.settled()")

    def matching(self, *, ignore: Sequence[Ignore] = ()) -> list[PageProblem]:
        """The problems not matched by any of ``ignore``."""
        return [p for p in self.problems if not any(_matches(p.text, i) for i in ignore)]

    def clear(self) -> None:
        """Forget the problems seen so far."""
        self.problems.clear()


def _matches(text: str, pattern: Ignore) -> bool:
    if isinstance(pattern, str):
        return pattern in text
    return pattern.search(text) is not None


def watch_console(context: BrowserContext) -> ConsoleLog:
    """The :class:`ConsoleLog` of ``context``, made on first call (the fixtures make
    it as they make a person's context, before any page)."""
    log: ConsoleLog | None = getattr(context, "_videochat_console_log", None)
    if log is None:
        log = ConsoleLog(context)
        context._videochat_console_log = log  # type: ignore[attr-defined]
    return log
