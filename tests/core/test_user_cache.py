"""Where both environments keep what checkouts share."""

from __future__ import annotations

from pathlib import Path

from core.user_cache import user_cache_folder


def test_xdg_cache_home_wins_and_an_empty_one_counts_as_unset() -> None:
    assert user_cache_folder({"XDG_CACHE_HOME": "/srv/cache"}) == Path("/srv/cache/tanyavaksin")
    assert user_cache_folder({"XDG_CACHE_HOME": ""}) == Path.home() / ".cache" / "tanyavaksin"
    assert user_cache_folder({}) == Path.home() / ".cache" / "tanyavaksin"
