"""Loading the newly live model into a running Rasa server, without a restart.

Uses Rasa's HTTP API (``PUT /model``), which the server only offers when started with
``--enable-api --auth-token <token>``. The server and this tool must see the same file system:
the request names the model's absolute path. Standard library only (the web app imports it).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

URL_ENV = "RASA_URL"
TOKEN_ENV = "RASA_API_TOKEN"
PROBE_SECONDS = 5.0
# the server loads the model before it answers; the full pipeline takes a while on 2 cores
LOAD_SECONDS = 600.0


@dataclass(frozen=True)
class SwapResult:
    updated: bool
    message: str


def _request(method: str, url: str, timeout: float, body: dict[str, str] | None = None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def hot_swap(model_file: Path, environment: Mapping[str, str] | None = None) -> SwapResult:
    """Asks each server ``$RASA_URL`` lists (comma-separated) to serve ``model_file``; says whether all do.

    Several Rasa processes (RASA_INSTANCES) each load the model themselves: one after the other, so
    the others answer while one loads. One line per server; a failure is listed last, so the last line
    (what the review app's training page shows) is never a success hiding one.
    Never raises for an absent or failing server: the model is live on disk either way, and the
    server picks it up at its next start.
    """
    env = os.environ if environment is None else environment
    bases, token = (
        [url.strip().rstrip("/") for url in env.get(URL_ENV, "").split(",") if url.strip()],
        env.get(TOKEN_ENV, ""),
    )
    if not bases or not token:
        return SwapResult(False, f"running server not updated: {URL_ENV} and {TOKEN_ENV} are not both set")
    results = sorted(
        (_swap_one(base, token, model_file) for base in bases), key=lambda result: not result.updated
    )
    return SwapResult(
        all(result.updated for result in results), "\n".join(result.message for result in results)
    )


def _swap_one(base: str, token: str, model_file: Path) -> SwapResult:
    query = "?" + urllib.parse.urlencode({"token": token})
    try:
        _request("GET", f"{base}/", PROBE_SECONDS)
    except (OSError, ValueError) as error:
        return SwapResult(False, f"running server not updated: nothing answers at {base} ({error})")
    path = str(model_file.resolve())
    try:
        status, body = _request("PUT", f"{base}/model{query}", LOAD_SECONDS, {"model_file": path})
    except (OSError, ValueError) as error:
        return SwapResult(False, f"running server not updated: PUT {base}/model failed ({error})")
    if status != 204:
        detail = body.decode(errors="replace")[:300]
        hint = " (started without --enable-api --auth-token?)" if status in (401, 403, 404, 405) else ""
        return SwapResult(False, f"running server not updated: PUT /model answered {status}{hint} {detail}")
    try:
        status, body = _request("GET", f"{base}/status{query}", PROBE_SECONDS)
        serving = json.loads(body).get("model_file") if status == 200 else None
    except (OSError, ValueError):
        serving = None
    if serving != model_file.resolve().name:
        return SwapResult(False, f"running server at {base} accepted the model but serves {serving!r}")
    return SwapResult(True, f"running server at {base} now serves {serving}")
