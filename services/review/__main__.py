"""``python -m services.review``: see services/review/cli.py."""

from services.review.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
