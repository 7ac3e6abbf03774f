"""Retraining with an evaluation gate and a model registry (``python -m training``).

Every trained model is archived under ``models/archive/`` and recorded in ``models/registry.json``;
only a model that is not worse than the live one on the held-out split becomes
``models/live.tar.gz``, the file ``rasa run --model models`` picks. ``registry`` and ``hotswap``
use only the standard library so the review web app (Python 3.11 env) can import them.
"""
