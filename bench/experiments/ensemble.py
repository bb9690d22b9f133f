"""Experiment (issue 4): blend the fine-tuned MiniLM (bench/finetune.py) with the
production SVM. The blend weight is chosen on the inner split (10% of --train,
the same split as ``finetune.py --inner``) and only then applied to --test.

    .venv/bin/python bench/ensemble.py --train var/bench/banking77/train.csv \\
        --test var/bench/banking77/test.csv --inner-logits /tmp/ft/inner_logits.npz \\
        --test-logits /tmp/ft/test_logits.npz
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from finetune import read_csv, softmax
from sklearn.model_selection import train_test_split

from comptoir.assistant.nlu.classifier import IntentClassifier, _softmax


def svm_probs(train, texts, classes, encoders=None) -> np.ndarray:
    clf = IntentClassifier.train(train, generic_oos=False, encoders=encoders)
    probs = _softmax(clf._model.scores(texts), clf.temperature)
    cols = [clf._model.classes.index(c) for c in classes]
    return probs[:, cols]


def fit_temperature(z: np.ndarray, y: np.ndarray) -> float:
    best, best_nll = 1.0, np.inf
    for t in np.geomspace(0.2, 5, 40):
        nll = -np.log(softmax(z, t)[np.arange(len(y)), y] + 1e-12).mean()
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--inner-logits", required=True)
    parser.add_argument("--test-logits", required=True)
    parser.add_argument(
        "--model-state",
        help="finetune.py --save-model output: also measure "
        "the int8 blend and the latency of the whole pipeline",
    )
    parser.add_argument("--encoders", help="the SVM's sentence encoders (default: production)")
    args = parser.parse_args()
    encoders = args.encoders.split(",") if args.encoders else None
    train = read_csv(args.train)
    inner_train, inner = train_test_split(
        train, test_size=0.1, random_state=1, stratify=[c for _, c in train]
    )
    test = read_csv(args.test)
    zi = np.load(args.inner_logits)
    zt = np.load(args.test_logits)
    classes = [str(c) for c in zi["classes"]]
    assert list(zi["texts"]) == [t for t, _ in inner]
    index = {c: i for i, c in enumerate(classes)}
    yi = np.array([index[c] for _, c in inner])
    yt = np.array([index[c] for _, c in test])

    si = svm_probs(inner_train, [t for t, _ in inner], classes, encoders)
    temperature = fit_temperature(zi["logits"], yi)  # fine-tuned logits are over-confident
    fi = softmax(zi["logits"], temperature)
    print(
        f"inner: svm {np.mean(si.argmax(1) == yi) * 100:.2f} "
        f"finetuned {np.mean(fi.argmax(1) == yi) * 100:.2f} (temperature {temperature:.2f})"
    )
    best_w, best_acc = 0.0, -1.0
    for w in np.linspace(0, 1, 21):
        acc = np.mean((w * fi + (1 - w) * si).argmax(1) == yi)
        print(f"  w={w:.2f} inner accuracy {acc * 100:.2f}")
        if acc > best_acc + 1e-9:
            best_w, best_acc = float(w), acc
    print(f"chosen weight of the fine-tuned model: {best_w:.2f} (inner {best_acc * 100:.2f})")

    if args.model_state:
        return pipeline(args.model_state, train, test, classes, yt, best_w, temperature, encoders)
    st = svm_probs(train, [t for t, _ in test], classes, encoders)
    ft = softmax(zt["logits"], temperature)
    print(
        f"test: svm {np.mean(st.argmax(1) == yt) * 100:.2f} "
        f"finetuned {np.mean(ft.argmax(1) == yt) * 100:.2f}"
    )
    print(
        f"accuracy (ensemble, w={best_w:.2f}): "
        f"{np.mean((best_w * ft + (1 - best_w) * st).argmax(1) == yt) * 100:.2f}"
    )


def pipeline(state, train, test, classes, yt, w, temperature, encoders) -> None:
    """int8 fine-tuned MiniLM + production SVM, one message at a time, one thread."""
    import time

    import torch
    from finetune import MiniLM, batch, logits, tokenizer
    from torch import nn

    clf = IntentClassifier.train(train, generic_oos=False, encoders=encoders)
    cols = [clf._model.classes.index(c) for c in classes]
    net = MiniLM(len(classes))
    net.load_state_dict(torch.load(state))
    net.eval()
    torch.set_num_threads(1)
    q = torch.ao.quantization.quantize_dynamic(net, {nn.Linear}, dtype=torch.qint8)
    tok = tokenizer(48)
    texts = [t for t, _ in test]
    st = _softmax(clf._model.scores(texts), clf.temperature)[:, cols]
    ft = softmax(logits(q, tok, texts), temperature)
    print(
        f"int8 blend accuracy (w={w:.2f}): "
        f"{np.mean((w * ft + (1 - w) * st).argmax(1) == yt) * 100:.2f}"
    )

    def one(text):
        with torch.inference_mode():
            z = q(*batch(tok, [text])).numpy()
        s = _softmax(clf._model.scores([text]), clf.temperature)[:, cols]
        return (w * softmax(z, temperature) + (1 - w) * s).argmax(1)

    sample = [texts[i] for i in np.random.default_rng(0).permutation(len(texts))[:400]]
    for text in sample[:10]:
        one(text)
    started = time.perf_counter()
    for text in sample:
        one(text)
    print(f"pipeline ms/message: {(time.perf_counter() - started) * 1000 / len(sample):.2f}")


if __name__ == "__main__":
    main()
