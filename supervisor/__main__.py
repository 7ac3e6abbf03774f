"""``python -m supervisor`` (``make run``): run the whole assistant until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os

from pydantic import ValidationError

from supervisor.environment import (
    RASA_API_FILE,
    ensure_review_admin,
    has_model,
    prepare_environment,
    write_private,
)
from supervisor.load_balancer import nginx_binary, write_for
from supervisor.stack import run_stack


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-8s %(name)s  - %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per health check otherwise
    os.umask(0o077)  # everything the run writes (databases, secrets, logs) is for this user only
    try:
        settings = prepare_environment()
    except ValidationError as error:
        names = ", ".join(
            ".".join(str(part) for part in problem["loc"]).upper() or problem["msg"]
            for problem in error.errors()
        )
        raise SystemExit(f"The supervisor cannot start; check these settings: {names}") from None
    if not has_model(settings):
        raise SystemExit(
            f"No trained model in {settings.model}: run 'make train' (or 'make run', which trains first)"
        )
    if settings.load_balanced:
        if nginx_binary() is None:
            raise SystemExit(
                "RASA_INSTANCES / ACTION_INSTANCES above 1 run behind nginx, which is not installed: "
                "run scripts/setup_nginx.sh (Debian's package)"
            )
        write_for(settings)
    ensure_review_admin(settings)
    rasa_api = settings.run_dir / RASA_API_FILE
    write_private(rasa_api, {name: os.environ[name] for name in ("RASA_URL", "RASA_API_TOKEN")})
    try:
        asyncio.run(run_stack(settings))
    finally:
        rasa_api.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
