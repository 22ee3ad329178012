"""Flows a person goes through, in a page: signing in, placing and answering a call."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .page import VideoChatPage


def sign_in_with_form(page: Page, base_url: str, name: str, *, path: str = "/login",
                      label: str = "Name", button: str = "Sign in") -> None:
    """Sign in through a form with one text field (``label``) and a submit button.
    The browser submits the form's hidden fields too (a CSRF token)."""
    page.goto(base_url + path)
    page.get_by_label(label).fill(name)
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def answered_call(caller: VideoChatPage, callee: VideoChatPage, *, caller_name: str,
                  callee_name: str) -> tuple[str, str]:
    """``caller`` calls ``callee`` (found by name in the online list), ``callee``
    accepts, and both reach "in call".

    :returns: ``(caller_id, callee_id)``.
    """
    callee_id = caller.user_id_of(callee_name)
    caller_id = callee.user_id_of(caller_name)
    caller.call(callee_id)
    callee.expect_ringing(caller_name)
    callee.accept()
    caller.expect_in_call_with(callee_id)
    callee.expect_in_call_with(caller_id)
    return caller_id, callee_id
