"""Grouping unreviewed messages by meaning, so a reviewer labels a whole cluster at once.

Many people ask the same thing in different words ("vaksin bayar ga", "biaya vaksin brp"). Messages
are embedded with the project's sentence model (multilingual-e5-small, the semantic FAQ search's)
and clustered agglomeratively with average linkage on cosine distance: no number of clusters to
guess (people's questions decide it), one similarity threshold says when two groups ask the same
thing, and the result is deterministic. Single linkage would chain topics through one odd message.

Raw e5 cosines do not separate this project's topics: all pairs score 0.8-0.95 and on the held-out
split a message's nearest neighbour shares its FAQ topic only 27 % of the time; the best threshold
clustered the 390 held-out FAQ messages at purity 0.53 (148 clusters for 39 topics, ARI 0.07). So
embeddings are first mapped into the space where the training labels separate best: linear
discriminant analysis (shrinkage 0.3) fitted on the semantic index's embeddings of data/nlu (built
by ``make train``), centred on their mean. Held-out messages are no training data, so the
measurement below is fair. It also holds for questions the training data lacks: with 8 of the 39
topics left out of the fit, their messages clustered at purity 0.66-0.89 against 0.64-0.89 raw.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from actions.semantic.encoder import Encoder, load_encoder
from actions.semantic.faq_index import ARRAYS_FILE, FaqIndex, IndexMismatchError, index_dir
from services.review.training_data import normalize

# Tuned on data/heldout: its 390 FAQ messages of 39 topics (in brackets: all 530 messages, the
# non-FAQ intents included), average linkage in the topic space:
#   similarity 0.32: purity 0.72 (0.68), inverse purity 0.74 (0.74), 52 clusters, ARI 0.52
#   similarity 0.40: purity 0.79 (0.76), inverse purity 0.68 (0.68), 83 clusters, ARI 0.53
#   similarity 0.48: purity 0.87 (0.87), inverse purity 0.55 (0.56), 135 clusters, ARI 0.48
# 0.40: a cluster is labelled at once, so purity counts most, and F1 and ARI are near their best.
DEFAULT_SIMILARITY = 0.40
SHRINKAGE = 0.3
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Cluster:
    """Messages that ask the same thing."""

    size: int  # members, repeats included
    examples: tuple[str, ...]  # up to 5 distinct texts (normalize), the most central first
    texts: tuple[str, ...]  # every member, in input order

    def distinct(self) -> list[tuple[str, int]]:
        """Each different message once (``normalize``) with how often it was sent, the most sent first.

        What a reviewer reads when a cluster is opened: repeats would hide the other wordings.
        """
        counts: dict[str, int] = {}
        spelling: dict[str, str] = {}
        for text in self.texts:
            key = normalize(text)
            counts[key] = counts.get(key, 0) + 1
            spelling.setdefault(key, text)
        order = sorted(counts, key=lambda key: (-counts[key], key))
        return [(spelling[key], counts[key]) for key in order]


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised row per text, in input order."""
        ...


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


@dataclass(frozen=True)
class TopicSpace:
    """A linear map of sentence embeddings onto the directions that tell the training labels apart."""

    mean: np.ndarray  # (dim,) mean training embedding
    scalings: np.ndarray  # (dim, components)

    @classmethod
    def fit(cls, embeddings: np.ndarray, labels: Sequence[str], shrinkage: float = SHRINKAGE) -> TopicSpace:
        from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

        data = np.asarray(embeddings, dtype=np.float64)
        lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage=shrinkage).fit(data, list(labels))
        components = min(len(set(labels)) - 1, data.shape[1])
        return cls(data.mean(axis=0), np.asarray(lda.scalings_[:, :components], dtype=np.float64))

    def project(self, embeddings: np.ndarray) -> np.ndarray:
        return _unit_rows((np.asarray(embeddings, dtype=np.float64) - self.mean) @ self.scalings)


@dataclass(frozen=True)
class TopicEmbedder:
    """The project's sentence encoder followed by the topic space of its training data."""

    encoder: Encoder
    space: TopicSpace
    prompt: str  # as the index's examples were encoded

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.space.scalings.shape[1]))
        return self.space.project(self.encoder.encode(list(texts), self.prompt))


def load_embedder(model_dir: Path, index: Path | None = None) -> Embedder:
    """The model in ``model_dir`` (never a model hub) with the topic space of the semantic index.

    ``index``: the semantic index folder (default: the action server's, ``models/semantic``). Raises
    FileNotFoundError when the model or the index is missing, IndexMismatchError when the index was
    built with another model. Loading takes a few seconds: load once per process.
    """
    if not (model_dir / "modules.json").is_file():
        raise FileNotFoundError(
            f"no sentence-transformers model in {model_dir}: run `make train` (it provisions the model "
            "offline with actions/semantic/provision.py)"
        )
    folder = index if index is not None else index_dir()
    if not (folder / ARRAYS_FILE).is_file():
        raise FileNotFoundError(
            f"no semantic index in {folder}: run `make train` (actions/semantic/build.py builds it)"
        )
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    encoder = load_encoder(str(model_dir.resolve()))
    faq_index = FaqIndex.load(folder)
    if faq_index.info.model_fingerprint != encoder.fingerprint:
        raise IndexMismatchError(
            f"the semantic index in {folder} was built with another model than {model_dir}: "
            "rebuild it with `python -m actions.semantic.build`"
        )
    space = TopicSpace.fit(faq_index.embeddings, faq_index.labels)
    return TopicEmbedder(encoder, space, faq_index.info.example_prompt)


def _cluster_labels(embeddings: np.ndarray, similarity: float) -> np.ndarray:
    """A cluster number per row: average linkage, merged while the mean cosine is >= similarity."""
    if len(embeddings) == 1:
        return np.zeros(1, dtype=np.int64)
    from sklearn.cluster import AgglomerativeClustering

    distances = np.clip(1.0 - embeddings @ embeddings.T, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    model = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=1.0 - similarity
    )
    return np.asarray(model.fit_predict(distances))


def cluster_messages(
    texts: Sequence[str], embedder: Embedder, similarity: float = DEFAULT_SIMILARITY
) -> list[Cluster]:
    """Clusters of ``texts``: the largest first, singletons last, the same output for the same input.

    Repeats of a message (``normalize``) are embedded once and stay in one cluster; texts with
    nothing to compare (empty, punctuation only) are left out. Examples are a cluster's distinct
    messages, closest to its (repeat-weighted) mean first. ``similarity`` is a cosine in the
    embedder's space (default: tuned for ``load_embedder``'s); higher makes smaller, purer clusters.
    """
    if not -1.0 <= similarity <= 1.0:
        raise ValueError(f"similarity is a cosine, in [-1, 1], not {similarity}")
    keys = [normalize(text) for text in texts]
    members: dict[str, list[int]] = {}
    for position, key in enumerate(keys):
        if key:
            members.setdefault(key, []).append(position)
    if not members:
        return []
    distinct = list(members)  # in order of first appearance
    first = [members[key][0] for key in distinct]
    embeddings = np.asarray(embedder.embed([texts[position] for position in first]), dtype=np.float64)
    labels = _cluster_labels(embeddings, similarity)
    clusters = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        weights = np.array([len(members[distinct[row]]) for row in rows], dtype=np.float64)
        closeness = embeddings[rows] @ (weights @ embeddings[rows])
        # rounded: a last-bit difference between runs must not reorder equally central texts
        central = sorted(range(len(rows)), key=lambda i: (-round(float(closeness[i]), 6), distinct[rows[i]]))
        positions = sorted(position for row in rows for position in members[distinct[row]])
        clusters.append(
            Cluster(
                size=len(positions),
                examples=tuple(texts[first[rows[i]]] for i in central[:MAX_EXAMPLES]),
                texts=tuple(texts[position] for position in positions),
            )
        )
    clusters.sort(key=lambda cluster: (-cluster.size, normalize(cluster.examples[0]), cluster.examples[0]))
    return clusters
