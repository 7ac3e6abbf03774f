"""Build a version's semantic FAQ index from the training data its Rasa model is trained from.

    python -m actions.semantic.build --data data/nlu data/rules --domain rasa_project/domain --out DIR

``python -m training train`` runs it (in this env) into ``models/archive/<id>.semantic``; the
index records the version's data hash (``core.model_registry.data_hash``). Skips the work (and the
model loading) when the data, the model and the index settings are those of the index in ``out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict

from actions.semantic.encoder import (
    DEFAULT_EXAMPLE_PROMPT,
    DEFAULT_MESSAGE_PROMPT,
    ModelNotProvisionedError,
    configured_model,
    load_encoder,
    model_fingerprint,
    resolve_model,
)
from actions.semantic.faq_index import (
    ARRAYS_FILE,
    DEFAULT_CENTER,
    DEFAULT_TOP_K,
    META_FILE,
    IndexInfo,
    build_index,
    index_info,
    nlu_files,
    read_examples,
)


class IndexSettings(TypedDict):
    example_prompt: str
    message_prompt: str
    top_k: int
    include_negatives: bool
    center: bool


def existing_build_key(folder: Path) -> str | None:
    """The build key of the index in ``folder``, or None when there is no readable index."""
    if not (folder / ARRAYS_FILE).is_file():
        return None
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        return IndexInfo(**meta["info"]).build_key
    except (OSError, ValueError, KeyError, TypeError):
        return None


def build(
    data: list[Path],
    domain: Path | None,
    out: Path,
    model: str,
    settings: IndexSettings,
    force: bool = False,
    echo: Callable[[str], None] = print,
) -> bool:
    """Build into ``out`` unless an index with the same build key is there; True when built."""
    files = nlu_files(*data)
    if not files:
        raise FileNotFoundError(f"no NLU YAML files in {', '.join(map(str, data))}")
    fingerprint = model_fingerprint(resolve_model(model))
    info = index_info(fingerprint, model, data, **settings, domain=domain)
    if not force and existing_build_key(out) == info.build_key:
        echo(f"{out}: semantic index up to date (data, model and settings unchanged)")
        return False
    started = time.perf_counter()
    index = build_index(read_examples(files), load_encoder(model), info)
    index.save(out)
    echo(
        f"{out}: indexed {len(index.labels)} examples of {len(index.label_names)} intents "
        f"({len(index.faq_labels)} FAQ topics) in {time.perf_counter() - started:.1f} s"
    )
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, nargs="+", required=True, help="training data files or folders")
    parser.add_argument("--domain", type=Path, default=None, help="the domain (part of the data hash)")
    parser.add_argument("--out", type=Path, required=True, help="the version's index folder")
    parser.add_argument("--model", default=None, help="model folder or name (default: the configured model)")
    parser.add_argument("--top-k", type=int, default=DEFAULT_TOP_K, help="per-label score: mean of k best")
    parser.add_argument("--no-negatives", action="store_true", help="index FAQ examples only")
    parser.add_argument(
        "--center", action="store_true", default=DEFAULT_CENTER, help="centred cosines instead of raw ones"
    )
    parser.add_argument("--example-prompt", default=DEFAULT_EXAMPLE_PROMPT)
    parser.add_argument("--message-prompt", default=DEFAULT_MESSAGE_PROMPT)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    settings: IndexSettings = {
        "example_prompt": args.example_prompt,
        "message_prompt": args.message_prompt,
        "top_k": args.top_k,
        "include_negatives": not args.no_negatives,
        "center": args.center,
    }
    try:
        build(args.data, args.domain, args.out, args.model or configured_model(), settings, args.force)
    except (ModelNotProvisionedError, FileNotFoundError) as error:
        print(f"build_semantic_index: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
