"""Flows a person goes through, in a page: signing in, placing and answering a call."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Mapping, Union

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

    from .page import VideoChatPage

#: A form field's value: text to type, or ``True``/``False`` to tick or untick a
#: checkbox.
FieldValue = Union[str, bool]

#: A key of ``fields`` that is a selector rather than a label: it starts with ``#``,
#: ``[``, ``css=`` or ``xpath=``, or is a tag followed by ``[``, ``#`` or ``.``
#: (``input[name=email]``).
_SELECTOR = re.compile(r"^(#|\[|css=|xpath=|[a-z]+[\[#.])")


def _field(page: Page, key: str) -> Locator:
    return page.locator(key) if _SELECTOR.match(key) else page.get_by_label(key)


def sign_in_with_form(page: Page, base_url: str, name: str | Mapping[str, FieldValue], *,
                      path: str = "/login", label: str = "Name",
                      button: str = "Sign in") -> None:
    """Sign in through a form, as a person does: open ``base_url + path``, fill the
    fields, click the submit button named ``button``, wait for the next page to load.
    The browser submits the form's hidden fields too (a CSRF token).

    :param name: the text for the one field labelled ``label``; or a mapping of
        fields to values, filled in order: each key is a field's label (its
        ``<label>`` or ``aria-label``, matched as Playwright's ``get_by_label``
        does: case-insensitive substring) or a selector (starting with ``#``,
        ``[``, ``css=``, ``xpath=``, or a tag then ``[``, ``#`` or ``.``:
        ``input[name=email]``); a value is text to type, or ``True``/``False`` to
        tick or untick a checkbox.
    :raises playwright.sync_api.Error: a field or the button is not there (or a
        label matches several fields: use a selector).

    Example::

        sign_in_with_form(page, url, {"Email": "ada@example.org", "Password": "pw",
                                      "Remember me": True},
                          path="/accounts/login", button="Log in")
    """
    fields: Mapping[str, FieldValue] = {label: name} if isinstance(name, str) else name
    page.goto(base_url + path)
    for key, value in fields.items():
        field = _field(page, key)
        if isinstance(value, bool):
            field.set_checked(value)
        else:
            field.fill(value)
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
