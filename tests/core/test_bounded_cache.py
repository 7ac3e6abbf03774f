"""The bounded cache of repeated messages' work (core/bounded_cache.py)."""

from __future__ import annotations

import pytest

from core.bounded_cache import BoundedCache


def test_a_repeat_is_not_made_again_and_the_least_recent_goes_first() -> None:
    made: list[str] = []
    cache: BoundedCache[str, str] = BoundedCache(2)

    def make(text: str) -> str:
        made.append(text)
        return text.upper()

    assert cache.get_or_make("menu", lambda: make("menu")) == "MENU"
    assert cache.get_or_make("menu", lambda: make("menu")) == "MENU"
    cache.get_or_make("halo", lambda: make("halo"))
    cache.get("menu")  # used lately: "halo" is now the oldest
    cache.get_or_make("1", lambda: make("1"))
    assert made == ["menu", "halo", "1"]
    assert len(cache) == 2 and cache.get("halo") is None and cache.get("menu") == "MENU"
    assert (cache.hits, cache.misses) == (3, 4)


def test_size_zero_keeps_nothing_and_a_negative_size_is_refused() -> None:
    cache: BoundedCache[str, int] = BoundedCache(0)
    cache.put("a", 1)
    assert cache.get("a") is None and len(cache) == 0
    with pytest.raises(ValueError):
        BoundedCache(-1)
