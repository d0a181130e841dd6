"""Dev-set accuracy of score_headlines + label_scores, guarded by floors so regressions fail.

The dev set (tests/data/devset.csv, described in tests/data/DEVSET.md) is hand-labelled
bull / neutral / bear. Floors sit about 0.03 below the figures measured when they were set;
run `pytest tests/test_devset.py -s` to print the current figures.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from backtest.scoring import label_scores, score_headlines

DEVSET = Path(__file__).parent / "data" / "devset.csv"
LABELS = ("bull", "neutral", "bear")

FLOORS = {  # origin -> (accuracy floor, macro-F1 floor)
    "all": (0.85, 0.83),
    "stocknet": (0.79, 0.72),
    "written": (0.95, 0.95),
}


def _read_devset() -> tuple[list[str], np.ndarray, np.ndarray]:
    with DEVSET.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts = [row["text"] for row in rows]
    return texts, np.array([r["label"] for r in rows]), np.array([r["origin"] for r in rows])


def accuracy_and_macro_f1(predicted: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """Share of exact calls, and the unweighted mean of per-class F1 over bull/neutral/bear."""
    f1s = []
    for label in LABELS:
        tp = np.sum((predicted == label) & (gold == label))
        precision = tp / max(np.sum(predicted == label), 1)
        recall = tp / max(np.sum(gold == label), 1)
        f1s.append(0.0 if tp == 0 else 2 * precision * recall / (precision + recall))
    return float(np.mean(predicted == gold)), float(np.mean(f1s))


def test_devset_is_well_formed() -> None:
    texts, gold, origin = _read_devset()
    assert set(gold) == set(LABELS)
    assert np.sum(origin == "stocknet") >= 300 and np.sum(origin == "written") >= 100
    assert 0.5 <= np.mean(gold == "neutral") <= 0.65
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize("origin_name", sorted(FLOORS))
def test_devset_accuracy_and_macro_f1_stay_above_floor(origin_name: str) -> None:
    texts, gold, origin = _read_devset()
    predicted = label_scores(score_headlines(texts))
    keep = np.ones(len(texts), bool) if origin_name == "all" else origin == origin_name
    accuracy, macro_f1 = accuracy_and_macro_f1(predicted[keep], gold[keep])
    figures = f"accuracy {accuracy:.3f}, macro-F1 {macro_f1:.3f}"
    print(f"\ndev set {origin_name} (n={keep.sum()}): {figures}")
    accuracy_floor, f1_floor = FLOORS[origin_name]
    assert accuracy >= accuracy_floor
    assert macro_f1 >= f1_floor
