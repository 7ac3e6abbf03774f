"""The commands the supervisor starts, read by the programs that receive them."""

from __future__ import annotations

import json
import subprocess

import pytest
from pydantic import SecretStr

from supervisor.components import RASA_SERVER, assistant_components
from supervisor.settings import ROOT, SupervisorSettings

RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"
# Rasa's own command-line parser (rasa/__main__.py) on the arguments after "rasa".
PARSE_WITH_RASA = """
import json, sys
from rasa.__main__ import create_argument_parser
arguments = create_argument_parser().parse_args(sys.argv[1:])
print(json.dumps({"auth_token": arguments.auth_token, "enable_api": arguments.enable_api}))
"""


@pytest.mark.parametrize("token", ["-starts-with-a-dash", "--looks-like-an-option", "plain_Token-1"])
def test_rasa_reads_every_generated_api_token_as_the_token(token: str) -> None:
    """secrets.token_urlsafe starts with "-" once in 64 runs: Rasa refused to start on those (CI)."""
    settings = SupervisorSettings(rasa_api_token=SecretStr(token), model_path="models")
    [rasa] = [component for component in assistant_components(settings) if component.name == RASA_SERVER]
    assert rasa.command[1] == "run"
    parsed = subprocess.run(
        [str(RASA_PYTHON), "-c", PARSE_WITH_RASA, *rasa.command[1:]],
        capture_output=True, text=True, timeout=120, check=False,
        env={"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert parsed.returncode == 0, parsed.stderr[-2000:]
    assert json.loads(parsed.stdout.splitlines()[-1]) == {"auth_token": token, "enable_api": True}
