"""Dev-set accuracy of score_headlines + label_scores, guarded by floors so regressions fail.

The dev sets (tests/data/devset.csv and devset_styles.csv, described in tests/data/DEVSET.md)
are hand-labelled bull / neutral / bear. Floors sit about 0.03 below the figures measured when
they were set; run `pytest tests/test_devset.py -s` to print the current figures. The styles
set's `holdout` half is reported, never floored: nothing is tuned on it.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest

from backtest.scoring import label_scores, score_headlines

DEVSET = Path(__file__).parent / "data" / "devset.csv"
STYLES_DEVSET = Path(__file__).parent / "data" / "devset_styles.csv"
STYLES = ("tweet", "analyst", "wire", "macro", "chatter")
SPLITS = ("tune", "holdout")
LABELS = ("bull", "neutral", "bear")

STYLE_FLOORS = {  # style of the tune half -> (accuracy floor, macro-F1 floor), issue 22
    "all": (0.85, 0.85),  # measured 0.887 / 0.881 (before the phrase layer 0.807 / 0.787)
    "tweet": (0.88, 0.86),  # 0.917 / 0.898
    "analyst": (0.93, 0.92),  # 0.975 / 0.967
    "wire": (0.90, 0.90),  # 0.934 / 0.931
    "macro": (0.70, 0.70),  # 0.741 / 0.741
    "chatter": (0.73, 0.38),  # 0.763 / 0.421 (few polar texts: macro-F1 is noisy)
}

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


def _read_styles_devset() -> list[dict[str, str]]:
    with STYLES_DEVSET.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def split_of(text: str) -> str:
    """The split a styles dev-set text belongs to: ``tune`` when the first byte of the SHA-256
    of its UTF-8 text is even, else ``holdout`` (the rule the file was split by, once)."""
    return "tune" if hashlib.sha256(text.encode("utf-8")).digest()[0] % 2 == 0 else "holdout"


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


def test_styles_devset_is_well_formed_and_split_by_hash() -> None:
    rows = _read_styles_devset()
    texts = [row["text"] for row in rows]
    assert len(rows) >= 400 and len(set(texts)) == len(texts)
    assert {row["label"] for row in rows} == set(LABELS)
    assert {row["style"] for row in rows} == set(STYLES)
    assert all(row["split"] == split_of(row["text"]) for row in rows)
    assert 0.45 <= np.mean([row["label"] == "neutral" for row in rows]) <= 0.65
    old_texts, _, _ = _read_devset()
    assert not set(texts) & set(old_texts)


def _styles_figures(split: str, style: str) -> tuple[int, float, float]:
    rows = _read_styles_devset()
    keep = [r for r in rows if r["split"] == split and style in ("all", r["style"])]
    predicted = label_scores(score_headlines([r["text"] for r in keep]))
    gold = np.array([r["label"] for r in keep])
    return len(keep), *accuracy_and_macro_f1(predicted, gold)


@pytest.mark.parametrize("style", sorted(STYLE_FLOORS))
def test_styles_devset_tune_half_stays_above_floor(style: str) -> None:
    n, accuracy, macro_f1 = _styles_figures("tune", style)
    held_n, held_accuracy, held_f1 = _styles_figures("holdout", style)
    print(
        f"\nstyles {style}: tune (n={n}) accuracy {accuracy:.3f}, macro-F1 {macro_f1:.3f}; "
        f"holdout (n={held_n}) accuracy {held_accuracy:.3f}, macro-F1 {held_f1:.3f}"
    )
    accuracy_floor, f1_floor = STYLE_FLOORS[style]
    assert accuracy >= accuracy_floor
    assert macro_f1 >= f1_floor
