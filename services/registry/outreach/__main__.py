"""``python -m services.registry.outreach``: see cli.py."""

import sys

from services.registry.outreach.cli import main

sys.exit(main())
