"""``python -m services.registry``: see services/registry/cli.py."""

from services.registry.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
