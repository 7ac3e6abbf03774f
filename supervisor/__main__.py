"""``python -m supervisor``: run the whole assistant until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import logging

from pydantic import ValidationError

from supervisor.settings import SupervisorSettings
from supervisor.stack import run_stack


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-8s %(name)s  - %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per health check otherwise
    try:
        settings = SupervisorSettings()  # type: ignore[call-arg]  # the Rasa API token comes from the environment
    except ValidationError as error:
        names = ", ".join(
            ".".join(str(part) for part in problem["loc"]).upper() for problem in error.errors()
        )
        raise SystemExit(f"The supervisor cannot start; check these settings: {names}") from None
    asyncio.run(run_stack(settings))


if __name__ == "__main__":
    main()
