"""Checks that a webhook delivery really comes from Meta.

Meta signs the raw request body with the app secret (``X-Hub-Signature-256:
sha256=<hex>``). Anyone who knows the webhook URL could otherwise make the
assistant message arbitrary numbers on the ministry's behalf.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Hub-Signature-256"
_PREFIX = "sha256="


def sign(body: bytes, app_secret: str) -> str:
    """The header value Meta sends for ``body``."""
    return _PREFIX + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_is_valid(body: bytes, header: str | None, app_secret: str) -> bool:
    """Constant-time check of the header against the body; never true without a secret."""
    if not app_secret or not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(body, app_secret).encode(), header.strip().encode())
