"""Embeddings of whole batches kept on disk, so a training embeds only the texts it has not seen.

Every training builds its version's semantic index (all ~2,600 training examples: 34-65 s on 2
cores) and measures the candidate and the live version end to end on the held-out split (520
messages, twice). Between two trainings a reviewer's correction changes a handful of examples, and
a new checkout of the same data (CI, a second worktree) changes none: the rest was embedded before.

The store is one SQLite file shared by every checkout (``$TANYAVAKSIN_EMBEDDING_CACHE``, default
``${XDG_CACHE_HOME:-~/.cache}/tanyavaksin/embeddings.sqlite3``; ``off`` turns it off). A vector is
keyed by the model's fingerprint (``encoder.model_fingerprint``: another model's vectors are never
mixed in), the prompt and the text as the encoder sees it. Only batch work (index builds,
evaluations) uses it; the action server embeds each message in memory (``Encoder.encode_one``).

A store that cannot be opened, read or written (read-only home, disk full, a damaged file) is no
reason to fail a training: the texts are embedded as if there were none, and one warning says why.
It keeps the ``MAX_ROWS`` most recently used vectors (1.5 KB each at 384 dimensions).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path

import numpy as np

from core.user_cache import user_cache_folder

logger = logging.getLogger(__name__)

OFF = "off"
FILE_NAME = "embeddings.sqlite3"
MAX_ROWS = 50_000
BUSY_TIMEOUT_SECONDS = 30.0  # two trainings (two checkouts) may write at once

Encode = Callable[[list[str]], np.ndarray]


def store_path(configured: str, environment: Mapping[str, str] | None = None) -> Path | None:
    """Where the store is (``configured``: the setting ``$TANYAVAKSIN_EMBEDDING_CACHE``; empty: the
    user's cache folder), or None when it is ``off``."""
    env = os.environ if environment is None else environment
    configured = configured.strip()
    if configured.lower() == OFF:
        return None
    if configured:
        return Path(configured)
    return user_cache_folder(env) / FILE_NAME


def _key(fingerprint: str, prompt: str, text: str) -> str:
    return hashlib.sha256("\0".join((fingerprint, prompt, text)).encode("utf-8")).hexdigest()


class EmbeddingStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """One transaction, committed on success; the connection closed either way."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)) as connection, connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS embeddings "
                "(key TEXT PRIMARY KEY, vector BLOB NOT NULL, used REAL NOT NULL)"
            )
            yield connection

    def encode(
        self, texts: list[str], fingerprint: str, prompt: str, encode: Encode
    ) -> tuple[np.ndarray, int]:
        """``encode(texts)`` as one float32 matrix, only the texts the store lacks being encoded;
        and how many were. On any store error, all of them are."""
        keys = [_key(fingerprint, prompt, text) for text in texts]
        try:
            with self._connect() as connection:
                found = self._read(connection, keys)
        except (sqlite3.Error, OSError, ValueError) as error:
            logger.warning("embedding store %s not used: %s", self.path, error)
            return encode(texts), len(texts)
        missing = [i for i, key in enumerate(keys) if key not in found]
        fresh = np.asarray(encode([texts[i] for i in missing]), dtype=np.float32) if missing else None
        rows: list[np.ndarray] = [found.get(key, np.zeros(0, dtype=np.float32)) for key in keys]
        for position, i in enumerate(missing):
            assert fresh is not None
            rows[i] = fresh[position]
        if len({row.shape for row in rows}) > 1:  # a damaged row, or one written by something else
            logger.warning("embedding store %s: rows of different sizes, not used", self.path)
            return encode(texts), len(texts)
        matrix = np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)
        try:
            with self._connect() as connection:
                now = time.time()
                if fresh is not None:
                    connection.executemany(
                        "INSERT OR REPLACE INTO embeddings (key, vector, used) VALUES (?, ?, ?)",
                        [(keys[i], fresh[p].tobytes(), now) for p, i in enumerate(missing)],
                    )
                connection.executemany(
                    "UPDATE embeddings SET used = ? WHERE key = ?", [(now, key) for key in found]
                )
                connection.execute(
                    "DELETE FROM embeddings WHERE key NOT IN "
                    "(SELECT key FROM embeddings ORDER BY used DESC LIMIT ?)",
                    (MAX_ROWS,),
                )
        except (sqlite3.Error, OSError) as error:
            logger.warning("embedding store %s not updated: %s", self.path, error)
        return matrix, len(missing)

    @staticmethod
    def _read(connection: sqlite3.Connection, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite's limit on bound parameters
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, vector FROM embeddings WHERE key IN ({marks})"  # only "?" marks go in
            for key, blob in connection.execute(query, chunk):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found
