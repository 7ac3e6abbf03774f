"""One configuration surface: ``.env.example`` names exactly what the code reads, with its defaults,
and the supervisor hands every server one environment (the process's, then ``.env``, then the run
folder's secrets, then the addresses derived from its settings)."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Iterator
from enum import Enum
from pathlib import Path

import pytest
from pydantic import AliasChoices, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from actions.settings import ActionSettings, SettingsError, load_server_settings, load_settings
from rasa_project.channels.admission import DEFAULT_MESSAGES_AT_ONCE, MESSAGES_AT_ONCE_ENV
from rasa_project.content import CONTENT_DIR_ENV
from services.registry.outreach.settings import OutreachSettings
from services.registry.settings import RegistrySettings
from services.review.settings import ReviewSettings
from supervisor import environment
from supervisor.environment import SECRETS, prepare_environment, rasa_variables, read_env_file
from supervisor.settings import SupervisorSettings

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / ".env.example"
SETTINGS = (SupervisorSettings, ActionSettings, RegistrySettings, OutreachSettings, ReviewSettings)
# Read outside these classes: the semantic search (actions/semantic) and the training commands (training/).
READ_ELSEWHERE = {
    "RASA_URL",
    "TANYAVAKSIN_ACTIONS_PYTHON",
}


def example() -> list[tuple[str, str]]:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    return [tuple(line.split("=", 1)) for line in lines if line and not line.startswith("#")]  # type: ignore[misc]


def env_names(settings: type[BaseSettings], name: str, field: FieldInfo) -> list[str]:
    """The variables pydantic-settings reads for a field: its aliases, else prefix + name."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [choice.upper() for choice in alias.choices if isinstance(choice, str)]
    return [f"{settings.model_config.get('env_prefix', '')}{name}".upper()]


def fields() -> dict[str, tuple[str, FieldInfo]]:
    """Variable -> (field name, field), for every name of every field."""
    return {
        variable: (name, field)
        for settings in SETTINGS
        for name, field in settings.model_fields.items()
        for variable in env_names(settings, name, field)
    }


def test_the_example_names_every_variable_once_and_nothing_else() -> None:
    names = [name for name, _ in example()]
    assert len(names) == len(set(names)), "a variable is listed twice"
    known = set(fields()) | rasa_variables() | {CONTENT_DIR_ENV, MESSAGES_AT_ONCE_ENV} | READ_ELSEWHERE
    assert set(names) - known == set(), "listed but read by nothing"
    for settings in SETTINGS:
        for name, field in settings.model_fields.items():
            assert set(env_names(settings, name, field)) & set(names), f"{settings.__name__}.{name} unlisted"
    assert rasa_variables() - set(names) == set()
    assert {"ACTION_ENDPOINT_URL", "TRACKER_DB", "WHATSAPP_APP_SECRET"} <= rasa_variables()


def as_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value.value if isinstance(value, Enum) else value)


def test_the_example_gives_the_settings_defaults_and_no_secret() -> None:
    by_variable = fields()
    listed = dict(example())
    for variable, value in listed.items():
        if value and variable in by_variable:
            assert value == as_text(by_variable[variable][1].default), variable
    for variable, (_, field) in by_variable.items():
        secret = field.annotation in (SecretStr, SecretStr | None)
        if variable in listed and secret:
            assert listed[variable] == "", f"{variable} is a secret: no value in the example"
    assert {name for name in SECRETS if listed[name]} == set()
    assert listed[MESSAGES_AT_ONCE_ENV] == str(DEFAULT_MESSAGES_AT_ONCE)  # read by each Rasa process


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No setting of this machine's shell; ``.env`` in the temporary folder; restored afterwards."""
    saved = dict(os.environ)
    for name in [*fields(), *rasa_variables(), "RASA_URL"]:
        os.environ.pop(name, None)
    os.environ["RUN_DIR"] = str(tmp_path / "run")
    monkeypatch.setattr(environment, "ENV_FILE", tmp_path / ".env")
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)


def test_the_environment_wins_over_env_file_and_addresses_follow_the_ports(clean_environment: Path) -> None:
    (clean_environment / ".env").write_text(
        "RASA_PORT=6005\nREGISTRY_PORT=6077\nACTION_PORT=6055\nSUPERVISOR_PORT=6079\n# no\nTRACKER_DB=\n",
        encoding="utf-8",
    )
    os.environ["SUPERVISOR_PORT"] = "7779"
    settings = prepare_environment()
    assert (settings.rasa_port, settings.supervisor_port) == (6005, 7779)
    run = clean_environment / "run"
    assert os.environ["ACTION_ENDPOINT_URL"] == "http://127.0.0.1:6055/webhook"
    assert os.environ["REGISTRY_URL"] == "http://127.0.0.1:6077"
    assert os.environ["RASA_URL"] == os.environ["REVIEW_RASA_URL"] == "http://127.0.0.1:6005"
    assert os.environ["TRACKER_DB"] == str(run / "tracker.db")  # an empty value in .env: the default
    assert os.environ["REVIEW_TRACKER_STORE_URL"] == f"sqlite:///{run / 'tracker.db'}"
    assert os.environ["REGISTRY_DATABASE_URL"] == f"sqlite:///{run / 'registry.db'}"
    assert all(name in os.environ for name in rasa_variables())  # Rasa refuses to start otherwise
    assert os.environ["WHATSAPP_APP_SECRET"] == ""
    assert RegistrySettings.model_fields["graph_api_url"].default == (
        RegistrySettings(
            service_token=SecretStr("x" * 16), audit_hash_key=SecretStr("y" * 16)
        ).graph_api_url  # empty: the default
    )


def test_secrets_are_generated_once_owner_only_and_the_environment_wins(clean_environment: Path) -> None:
    os.environ["ACTION_SERVER_TOKEN"] = "given-by-the-operator-0123"
    settings = prepare_environment()
    secrets_file = clean_environment / "run" / "secrets.env"
    stored = read_env_file(secrets_file)
    assert set(stored) == set(SECRETS)
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    assert os.environ["ACTION_SERVER_TOKEN"] == "given-by-the-operator-0123"
    assert settings.rasa_api_token.get_secret_value() == stored["RASA_API_TOKEN"]
    assert settings.review_admin_password.get_secret_value() == stored["REVIEW_ADMIN_PASSWORD"]
    os.environ.pop("RASA_API_TOKEN")
    assert prepare_environment().rasa_api_token.get_secret_value() == stored["RASA_API_TOKEN"]


def test_an_old_run_folder_gets_the_missing_secrets_and_owner_only_files(clean_environment: Path) -> None:
    run = clean_environment / "run"
    run.mkdir()
    (run / "secrets.env").write_text("REGISTRY_SERVICE_TOKEN=kept-from-before-0123456\n", encoding="utf-8")
    (run / "old.log").write_text("", encoding="utf-8")
    (run / "old.log").chmod(0o644)
    prepare_environment()
    stored = read_env_file(run / "secrets.env")
    assert stored["REGISTRY_SERVICE_TOKEN"] == "kept-from-before-0123456" and set(stored) == set(SECRETS)
    assert stat.S_IMODE((run / "old.log").stat().st_mode) == 0o600


def test_the_answer_check_has_one_default_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANYAVAKSIN_ANSWER_CHECK", raising=False)
    assert ActionSettings().answer_check is True
    for off in ("0", "false", "off", "no"):
        monkeypatch.setenv("TANYAVAKSIN_ANSWER_CHECK", off)
        assert ActionSettings().answer_check is False


def test_each_use_of_the_action_settings_checks_only_its_own_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGISTRY_SERVICE_TOKEN", raising=False)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "x9q")
    with pytest.raises(SettingsError, match="ACTION_SERVER_TOKEN") as raised:
        load_server_settings()
    assert "x9q" not in str(raised.value)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "long-enough-token-0123")
    assert load_server_settings().action_port == 5055
    with pytest.raises(SettingsError, match="REGISTRY_SERVICE_TOKEN"):
        load_settings()


def test_make_reads_env_file_and_finds_the_stack_make_run_started(tmp_path: Path) -> None:
    """``make -p`` prints what the Makefile read: .env under the environment, the running Rasa for train."""
    (tmp_path / ".env").write_text(
        "TANYAVAKSIN_ANSWER_CHECK=false\nRASA_PORT=6005\nREVIEW_PORT=\n", encoding="utf-8"
    )
    (tmp_path / ".run").mkdir()
    stack = {"RASA_URL": "http://127.0.0.1:6005", "RASA_API_TOKEN": "token-of-the-stack"}
    environment.write_private(tmp_path / ".run" / environment.RASA_API_FILE, stack)
    drop = {"RUN_DIR", "TANYAVAKSIN_ANSWER_CHECK", "REVIEW_PORT", "MAKEFLAGS", "MFLAGS", *stack}
    env = {name: value for name, value in os.environ.items() if name not in drop} | {"RASA_PORT": "7005"}
    printed = subprocess.run(
        ["make", "-pq", "-f", str(ROOT / "Makefile"), "help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    assert "TANYAVAKSIN_ANSWER_CHECK = false" in printed
    assert "RASA_PORT = 7005" in printed  # the environment wins
    assert not any(line.startswith("REVIEW_PORT ") for line in printed)  # empty: the default
    for target in ("train", "rollback"):
        assert f"{target}: RASA_URL := http://127.0.0.1:6005" in printed
        assert f"{target}: RASA_API_TOKEN := token-of-the-stack" in printed
