"""``backtest score`` through the real entry point: one output row per input line, in order."""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import numpy as np
from cli_helpers import EMBEDDED, run_cli

from backtest.scoring import label_scores, score_headlines


def real_texts(n: int) -> list[str]:
    """The first n embedded headlines, one line each (their own line breaks become spaces)."""
    with gzip.open(EMBEDDED / "headlines.csv.gz", "rt", encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f)
        return [" ".join(next(rows)["headline"].split()) for _ in range(n)]


def test_five_thousand_lines_give_five_thousand_jsonl_rows_in_order(tmp_path: Path) -> None:
    texts = real_texts(4_998) + ["", "Profit rose 20% and beat estimates"]
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    result = run_cli("score", "--input", str(path), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 5_000
    assert [r["text"] for r in rows] == texts
    expected = score_headlines(texts)
    np.testing.assert_allclose([r["score"] for r in rows], expected, atol=5e-7)
    assert [r["label"] for r in rows] == list(label_scores(expected))
    assert rows[-2] == {"text": "", "score": 0.0, "label": "neutral"}
    assert rows[-1]["label"] == "bull"


def test_csv_input_uses_its_headline_column_and_csv_output_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    texts = ['Loss widened, "shares" fell\nafter the probe', "Costs fell sharply"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL)
        writer.writerow(["id", "headline"])
        writer.writerows(enumerate(texts))
    result = run_cli("score", "--input", str(path), "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["text"] for r in rows] == texts
    assert [r["label"] for r in rows] == ["bear", "bull"]


def test_explain_shows_the_rules_behind_the_score() -> None:
    result = run_cli("score", "Loss narrowed", "--explain")
    assert result.returncode == 0, result.stderr
    assert "loss" in result.stdout.lower() and "narrowed" in result.stdout.lower()
    assert result.stdout.lstrip().startswith("+")


def test_unknown_format_is_one_line_exit_2() -> None:
    result = run_cli("score", "x", "--format", "xml")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "--format" in result.stderr
