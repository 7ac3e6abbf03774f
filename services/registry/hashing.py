"""Keyed hashes stand in for the NIK and the conversation id wherever they only need to be matched.

A plain SHA-256 of an NIK could be reversed by hashing every possible NIK; an HMAC with a secret
key cannot, as long as the key stays out of the database.
"""

from __future__ import annotations

import hashlib
import hmac

from core.sender_identity import normalise_phone


def keyed_hash(key: str, kind: str, value: str) -> str:
    """HMAC-SHA256 hex of ``value``; ``kind`` keeps an NIK and a conversation id with equal text apart."""
    return hmac.new(key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def nik_hash(key: str, nik: str) -> str:
    return keyed_hash(key, "nik", nik)


def conversation_hash(key: str, conversation_id: str) -> str:
    return keyed_hash(key, "conversation", conversation_id)


def number_hash(key: str, phone: str) -> str:
    """The number on file, for counting wrong codes and codes sent per number."""
    return keyed_hash(key, "phone", normalise_phone(phone))


def challenge_hash(key: str, challenge_id: str) -> str:
    return keyed_hash(key, "challenge", challenge_id)


def code_hash(key: str, challenge_id: str, code: str) -> str:
    """Bound to its challenge, so equal codes of two challenges do not hash alike."""
    return keyed_hash(key, "code", f"{challenge_id}:{code}")
