"""The example site's strict Content-Security-Policy, as ``docs/csp.md`` recommends
to hosts: a fresh nonce per response, no ``'unsafe-inline'`` for scripts or styles,
and a report endpoint whose log stays empty while nothing is wrong.

- :func:`install` sends the policy with every response, registers the site's
  ``csp_nonce()`` (a Jinja global, Flask-Talisman's convention, which the extension
  finds by itself) and the report endpoint ``POST /csp-report``.
- Each report is logged as a warning, and with ``CSP_REPORT_LOG`` set (the config
  key, or the ``EXAMPLE_SITE_CSP_REPORT_LOG`` environment variable) appended to that
  file as one JSON line, which :class:`ReportLog` reads (the e2e tests fail on any).

Reports are asked for with ``report-uri`` only: Chromium sends those at once, but
with a ``report-to`` endpoint it uses the Reporting API instead, which batches
reports for up to a minute (and Firefox does not support ``report-to`` for CSP).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request

log = logging.getLogger(__name__)

#: Where browsers send violation reports.
REPORT_PATH = "/csp-report"

#: Largest report body read, in bytes.
MAX_REPORT_SIZE = 16_384

#: Content types of CSP reports: ``report-uri``'s and the Reporting API's.
REPORT_TYPES = ("application/csp-report", "application/reports+json", "application/json")


def csp_nonce() -> str:
    """The current response's nonce (made on first use; 128 random bits)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def policy(nonce: str) -> str:
    """The ``Content-Security-Policy`` header value for a response with ``nonce``."""
    return "; ".join(
        [
            "default-src 'none'",
            # The widget's module and, through 'strict-dynamic', the modules it imports.
            f"script-src 'nonce-{nonce}' 'strict-dynamic'",
            # site.css, and the widget's stylesheets linked in its shadow root.
            "style-src 'self'",
            # The widget's icons (CSS masks of SVG files) and the favicon.
            "img-src 'self'",
            # Socket.IO: its WebSocket (ws: of this origin) and long-polling.
            "connect-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            f"report-uri {REPORT_PATH}",
        ]
    )


def install(app: Flask, csrf: Any) -> None:
    """Send :func:`policy` with every response of ``app``, register ``csp_nonce``
    and the report endpoint (exempt from ``csrf``, Flask-WTF's protection: browsers
    post reports without a token)."""
    app.config.setdefault("CSP_REPORT_LOG", os.environ.get("EXAMPLE_SITE_CSP_REPORT_LOG"))
    app.add_template_global(csp_nonce, "csp_nonce")

    @app.after_request
    def send_policy(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = policy(csp_nonce())
        return response

    @app.post(REPORT_PATH)
    @csrf.exempt
    def csp_report() -> Any:
        if request.mimetype not in REPORT_TYPES:
            return "", 415
        if request.content_length is None or request.content_length > MAX_REPORT_SIZE:
            return "", 413
        try:
            report = json.loads(request.get_data(cache=False))
        except ValueError:
            return "", 400
        log.warning("CSP violation reported: %s", json.dumps(report)[:2000])
        target = current_app.config.get("CSP_REPORT_LOG")
        if target:
            line = json.dumps(report, separators=(",", ":")) + "\n"
            # One write in append mode: lines of several processes do not interleave.
            with open(target, "a", encoding="utf-8") as f:
                f.write(line)
        return "", 204


class ReportLog:
    """The reports appended to a ``CSP_REPORT_LOG`` file, read from where the last
    :meth:`take` stopped."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0

    def _lines(self) -> tuple[list[str], int]:
        if not self.path.exists():
            return [], self._offset
        data = self.path.read_bytes()[self._offset :]
        end = data.rfind(b"\n") + 1  # a line still being written waits
        return data[:end].decode().splitlines(), self._offset + end

    def pending(self) -> list[Any]:
        """Reports that arrived since the last :meth:`take`, without taking them."""
        return [json.loads(line) for line in self._lines()[0]]

    def take(self) -> list[Any]:
        """Reports that arrived since the last :meth:`take`."""
        lines, self._offset = self._lines()
        return [json.loads(line) for line in lines]


def describe(report: Any) -> str:
    """One line about a report of either format (``report-uri``'s object, or the
    Reporting API's list): what was blocked, where, by which directive."""
    if isinstance(report, list):
        return "; ".join(describe(r) for r in report)
    if not isinstance(report, dict):
        return repr(report)
    body = report.get("csp-report") or report.get("body") or report
    blocked = body.get("blocked-uri") or body.get("blockedURL") or "?"
    directive = body.get("violated-directive") or body.get("effectiveDirective") or "?"
    page = body.get("document-uri") or body.get("documentURL") or "?"
    sample = body.get("script-sample") or body.get("sample") or ""
    return f"{directive} blocked {blocked} on {page}" + (f" ({sample!r})" if sample else "")
