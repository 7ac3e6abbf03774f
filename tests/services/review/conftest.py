"""Review app fixtures: a real SQLite review database and tracker store per test, in tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient
from pydantic import SecretStr

from services.review import auth
from services.review.app import create_app
from services.review.auth import create_user
from services.review.database import make_engine, make_session_factory
from services.review.migrate import upgrade_to_head
from services.review.models import Role
from services.review.settings import ReviewSettings
from tests.services.review.support import ADMIN, REVIEWER, FakeClock, sign_in, write_snapshots

UNUSED_PORT_URL = "http://127.0.0.1:16199"  # nothing listens here: "Rasa is down"


REAL_PASSWORD_HASHING = "real_password_hashing"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{REAL_PASSWORD_HASHING}: argon2id with the app's own parameters")


@pytest.fixture(autouse=True)
def cheap_password_hashing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """argon2id with argon2-cffi's CHEAPEST parameters ("for unit tests") unless a test is marked
    ``real_password_hashing`` (test_auth.py, where signing in is what is tested).

    The app's own parameters cost ~140 ms of CPU per hash and per check; these tests create two
    to four users and sign in once or twice each, so hashing was about 40 % of their time. The
    served app (browser and integration tests, ``create-user`` processes) always hashes for real.
    """
    if request.node.get_closest_marker(REAL_PASSWORD_HASHING) is None:
        monkeypatch.setattr(auth, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
    auth._dummy_hash.cache_clear()  # made with whichever hasher came first
    yield
    auth._dummy_hash.cache_clear()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def tracker_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    write_snapshots(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, tracker_url: str) -> ReviewSettings:
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    return ReviewSettings(
        database_url=f"sqlite:///{tmp_path / 'review.db'}",
        tracker_store_url=tracker_url,
        rasa_url=UNUSED_PORT_URL,
        rasa_api_token=SecretStr(""),
        rasa_timeout_seconds=2,
        models_dir=models_dir,
        data_dir=tmp_path / "data",
        login_failure_delay_seconds=0,
        sync_min_interval_seconds=0,
        secure_cookies=False,  # TestClient speaks plain http to "testserver"; test_auth.py covers "auto"
    )


@pytest.fixture
def users(settings: ReviewSettings, clock: FakeClock) -> None:
    engine = make_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
        with make_session_factory(engine)() as session, session.begin():
            create_user(session, REVIEWER[0], REVIEWER[1], Role.REVIEWER, clock())
            create_user(session, ADMIN[0], ADMIN[1], Role.ADMIN, clock())
    finally:
        engine.dispose()


AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(settings: ReviewSettings, clock: FakeClock, users: None) -> Iterator[AppFactory]:
    """Clients on new apps (each with its own lifespan); ``rasa`` is an httpx transport for Rasa."""
    opened: list[TestClient] = []

    def make(
        rasa: httpx.BaseTransport | None = None, base_url: str = "http://testserver", **overrides: object
    ) -> TestClient:
        app_settings = ReviewSettings(**{**settings.model_dump(), **overrides}) if overrides else settings
        client = TestClient(create_app(app_settings, clock=clock, rasa_transport=rasa), base_url=base_url)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: AppFactory) -> TestClient:
    return make_client()


@pytest.fixture
def reviewer(make_client: AppFactory) -> TestClient:
    client = make_client()
    assert sign_in(client, *REVIEWER).status_code == 303
    return client


@pytest.fixture
def admin(make_client: AppFactory) -> TestClient:
    client = make_client()
    assert sign_in(client, *ADMIN).status_code == 303
    return client
