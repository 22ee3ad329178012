"""The room-layout part of the page object (:class:`RoomLayoutLocators`): grid and
speaker view, pins, the speaker's highlight, per-person volumes.
:class:`~flask_videochat.testing.VideoChatPage` has all of it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Locator


class RoomLayoutLocators:
    """Locators and waits of a room's layouts, mixed into
    :class:`~flask_videochat.testing.VideoChatPage` (which gives ``room``, ``tile``,
    ``_id`` and ``_ms``)."""


    def layout_button(self, layout: str) -> Locator:
        """The room's layout toggle: ``"grid"`` or ``"speaker"`` (``aria-pressed``)."""
        return self._id(f"videochat-layout-{layout}")

    @property
    def self_tile(self) -> Locator:
        """Your own tile in a room (``data-user-id`` is yours)."""
        return self._id("videochat-self-tile")

    def participant(self, user_id: str) -> Locator:
        """The participant-list row of ``user_id`` (yours too)."""
        return self.room.locator(f'[data-testid="videochat-participant"][data-user-id="{user_id}"]')

    def pin_button(self, user_id: str, *, in_list: bool = False) -> Locator:
        """The pin button of ``user_id``'s tile (or participant row with ``in_list``);
        ``aria-pressed`` while they are pinned."""
        scope = self.participant(user_id) if in_list else self.tile(user_id)
        return scope.get_by_test_id("videochat-pin")

    def volume_slider(self, user_id: str) -> Locator:
        """The volume slider (0 to 100) of ``user_id`` in the participant list."""
        return self.participant(user_id).get_by_test_id("videochat-volume")

    def big_tile(self) -> Locator:
        """The big tile of speaker view (none in grid view)."""
        return self.room.locator('.vc-tile[data-big="true"]')

    def expect_big(self, user_id: str | None, *, timeout: float | None = None) -> None:
        """In speaker view with ``user_id``'s tile (yours too) the big one, or no big
        tile at all (``None``: grid view)."""
        from playwright.sync_api import expect

        if user_id is None:
            expect(self.big_tile()).to_have_count(0, timeout=self._ms(timeout))
        else:
            expect(self.big_tile()).to_have_attribute("data-user-id", user_id,
                                                      timeout=self._ms(timeout))

    def expect_speaking(self, user_id: str, speaking: bool = True, *,
                        timeout: float | None = None) -> None:
        """``user_id``'s tile is highlighted as the speaker (or not)."""
        from playwright.sync_api import expect

        tile = self.room.locator(f'.vc-tile[data-user-id="{user_id}"]')
        expect(tile).to_have_attribute("data-speaking", "true" if speaking else "false",
                                       timeout=self._ms(timeout))
