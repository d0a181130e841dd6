"""``backtest score``: read texts, score them with the lexicon kernel, print table, JSONL or CSV.

Plain text input is one text per line (every line gives one output row, in order); CSV, JSONL
and Parquet input use their headline column. Plain text never imports pandas, so scoring from
the shell starts fast.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from backtest.errors import BacktestError, InputError

FORMATS = ("table", "jsonl", "csv")
TABULAR_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".jsonl", ".jsonl.gz", ".ndjson", ".parquet")


def read_texts(path: Path) -> list[str]:
    """Texts from a file: its headline column if tabular, else one text per line."""
    if not path.is_file():
        raise InputError("file not found", file=path, hint="pass an existing file to --input")
    name = path.name.lower()
    if name.endswith(TABULAR_SUFFIXES):
        from backtest.data.tables import read_table

        table = read_table(path, what="texts")
        if "headline" not in table.columns:
            raise InputError(
                f"no headline column (found: {', '.join(map(str, table.columns))})",
                file=path,
                hint="name the text column 'headline' (or 'text' or 'title')",
            )
        return ["" if v is None or v != v else str(v) for v in table["headline"].tolist()]
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def print_scores(
    texts: Sequence[str],
    input_path: Path | None,
    output_format: str,
    explain: bool,
    lexicon_path: Path | None,
) -> None:
    """Score the given texts (or the file's) and print them in the chosen format."""
    from backtest.scoring import explain as explain_text
    from backtest.scoring import label_scores, load_lexicon, score_headlines

    if output_format not in FORMATS:
        raise BacktestError(f"--format {output_format!r} is not one of {', '.join(FORMATS)}")
    all_texts = list(texts)
    if input_path is not None:
        all_texts.extend(read_texts(input_path))
    if not all_texts:
        raise BacktestError("nothing to score: pass texts as arguments or --input FILE")
    lexicon = load_lexicon(lexicon_path)
    scores = score_headlines(all_texts, lexicon)
    labels = label_scores(scores)
    out = sys.stdout
    if output_format == "jsonl":
        for text, value, label in zip(all_texts, scores, labels, strict=True):
            row = {"text": text, "score": round(float(value), 6), "label": str(label)}
            if explain:
                row["explain"] = str(explain_text(text, lexicon))
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    elif output_format == "csv":
        writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        writer.writerow(["text", "score", "label"])
        for text, value, label in zip(all_texts, scores, labels, strict=True):
            writer.writerow([text, round(float(value), 6), str(label)])
    else:
        for text, value, label in zip(all_texts, scores, labels, strict=True):
            shown = " ".join(text.split())
            shown = shown if len(shown) <= 90 else shown[:89] + "…"
            out.write(f"{value:+.3f}  {label:<7}  {shown}\n")
            if explain:
                out.write(f"{explain_text(text, lexicon)}\n\n")
