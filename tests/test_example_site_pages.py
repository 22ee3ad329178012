"""The example site's pages: their titles, and the strict Content-Security-Policy
each response carries (a fresh nonce, the one the page's scripts carry, and a report
endpoint that logs what browsers report)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from example_site.app import create_app
from example_site.csp import REPORT_PATH, ReportLog, describe
from tests.test_example_site import sign_in
from tests.test_extension import Tags


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Flask:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("VIDEOCHAT_STORE_URL", raising=False)
    monkeypatch.delenv("EXAMPLE_SITE_CSP_REPORT_LOG", raising=False)
    return create_app(
        {"TESTING": True, "VIDEOCHAT_ICE_SERVERS": [],
         "CSP_REPORT_LOG": str(tmp_path / "reports.jsonl")},
        async_mode="threading", instance_path=str(tmp_path),
    )


def title(client: FlaskClient, path: str) -> str:
    return Tags(client.get(path).get_data(as_text=True)).text("title")


def test_page_titles_name_the_page_then_the_site(site: Flask) -> None:
    client = site.test_client()
    assert title(client, "/") == "Acme Team"
    assert title(client, "/login") == "Sign in · Acme Team"
    assert title(client, "/no-such-page") == "Not found · Acme Team"
    sign_in(client, "Ada")
    assert title(client, "/people") == "People · Acme Team"


@pytest.mark.parametrize("path", ["/", "/login", "/videochat/rooms/standup"])
def test_each_page_has_a_strict_policy_whose_nonce_its_scripts_carry(
        site: Flask, path: str) -> None:
    client = site.test_client()
    sign_in(client, "Ada")
    nonces = []
    for _ in range(2):
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "default-src 'none'" in policy and f"report-uri {REPORT_PATH}" in policy
        nonce = re.fullmatch(r".*script-src 'nonce-([\w-]+)' 'strict-dynamic';.*", policy)
        assert nonce is not None, policy
        scripts = Tags(response.get_data(as_text=True)).named("script")
        assert scripts and all(s.get("nonce") == nonce.group(1) for s in scripts), scripts
        nonces.append(nonce.group(1))
    assert nonces[0] != nonces[1]


def test_reports_are_logged_in_both_formats(site: Flask, tmp_path: Path) -> None:
    client = site.test_client()
    log = ReportLog(tmp_path / "reports.jsonl")
    legacy = {"csp-report": {"document-uri": "http://site/", "violated-directive":
                             "img-src", "blocked-uri": "https://cdn.example/a.png"}}
    modern = [{"type": "csp-violation", "body": {
        "documentURL": "http://site/people", "effectiveDirective": "style-src-attr",
        "blockedURL": "inline"}}]
    assert client.post(REPORT_PATH, data=json.dumps(legacy),
                       content_type="application/csp-report").status_code == 204
    assert client.post(REPORT_PATH, data=json.dumps(modern),
                       content_type="application/reports+json").status_code == 204

    reports = log.take()
    assert reports == [legacy, modern]
    assert [describe(r) for r in reports] == [
        "img-src blocked https://cdn.example/a.png on http://site/",
        "style-src-attr blocked inline on http://site/people",
    ]
    assert log.take() == []


def test_the_report_endpoint_takes_reports_only(site: Flask, tmp_path: Path) -> None:
    client = site.test_client()
    assert client.get(REPORT_PATH).status_code == 405
    assert client.post(REPORT_PATH, data="{}", content_type="text/plain").status_code == 415
    assert client.post(REPORT_PATH, data="{", content_type="application/csp-report"
                       ).status_code == 400
    big = json.dumps({"csp-report": {"x": "a" * 20_000}})
    assert client.post(REPORT_PATH, data=big, content_type="application/csp-report"
                       ).status_code == 413
    assert ReportLog(tmp_path / "reports.jsonl").take() == []
