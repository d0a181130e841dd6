"""``backtest lexicon learn`` and ``backtest lexicon ic``: learn a lexicon from headlines and the
returns that followed them inside a training window, and measure any lexicon's headline IC."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from backtest.cli.app import lexicon_app
from backtest.cli.options import DebugOpt, HeadlinesOpt, PricesOpt, SetOpt, StrategyOpt
from backtest.config import LEXICON_MIN_COUNT, LEXICON_TOP_K

_LabelOpt = Annotated[
    str,
    typer.Option(
        "--label",
        help="Label return: 'abnormal' (minus the tickers' equal-weight mean) or 'raw'.",
    ),
]


@lexicon_app.command("learn")
def learn(
    train_start: Annotated[
        str, typer.Option("--train-start", help="First day of the training window, YYYY-MM-DD.")
    ],
    train_end: Annotated[
        str, typer.Option("--train-end", help="Last training day; nothing later is read.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Lexicon CSV to write.")],
    strategy: StrategyOpt = None,
    prices: PricesOpt = None,
    headlines: HeadlinesOpt = None,
    set_: SetOpt = None,
    min_count: Annotated[
        int, typer.Option("--min-count", help="Keep terms seen with at least N labels.")
    ] = LEXICON_MIN_COUNT,
    top: Annotated[
        int, typer.Option("--top", help="Keep at most K terms on each side.")
    ] = LEXICON_TOP_K,
    phrases: Annotated[
        bool, typer.Option("--phrases/--no-phrases", help="Also learn 2-word phrases.")
    ] = True,
    label: _LabelOpt = "abnormal",
    show: Annotated[int, typer.Option("--show", help="Print the N strongest terms a side.")] = 15,
    debug: DebugOpt = False,
) -> None:
    """Learn a lexicon from the training window's headlines and next-session returns."""
    from backtest.cli.options import strategy_config
    from backtest.lexicon_learn import label_ic, learn_lexicon, rank_ic
    from backtest.scoring import load_lexicon, score_headlines

    config = strategy_config(strategy, set_, prices=prices, headlines=headlines)
    learned = learn_lexicon(
        config, train_start, train_end, min_count=min_count, top_k=top, phrases=phrases, label=label
    )
    path = learned.to_csv(out)
    lexicon = load_lexicon(path)
    counts = learned.counts
    typer.echo(
        f"Learned {len(learned.terms)} terms from {counts['labelled']} headlines "
        f"({counts['labels']} ticker-session labels, {counts['positive_share']:.1%} positive) "
        f"in {learned.train_start}..{learned.train_end}; dropped "
        f"{counts['dropped_label_after_window']} whose label needs a later price."
    )
    if learned.training is not None:
        frame = learned.training.frame
        scores = score_headlines(frame["headline"], lexicon)
        labels = frame["label"].to_numpy()
        ic = rank_ic(scores, labels)
        per_label = label_ic(
            scores, labels, frame["ticker_idx"].to_numpy(), frame["session_idx"].to_numpy()
        )
        typer.echo(
            f"In-sample IC (Spearman, score vs label return): headline {ic:+.4f}, "
            f"label {per_label:+.4f} (one point per ticker-session)."
        )
        typer.echo(
            "In-sample figures are fitted; measure out of sample with `backtest lexicon ic "
            f"--lexicon default --lexicon {path} --start <a day after {learned.train_end}> "
            "--end ...`."
        )
    for side, name in ((1, "positive"), (-1, "negative")):
        top_terms = learned.top(show, side)
        if top_terms:
            typer.echo(f"\nTop {name}:")
            for term in top_terms:
                typer.echo(
                    f"  {term.term:<28} {term.weight:+6.3f}  labels {term.labels:>5}  "
                    f"positive {term.positive_share:.0%}"
                )
    typer.echo(f"\nLexicon: {path}  (use it with --set signal.lexicon={path})")


@lexicon_app.command("ic")
def ic(
    start: Annotated[str, typer.Option("--start", help="First day, YYYY-MM-DD.")],
    end: Annotated[str, typer.Option("--end", help="Last day, YYYY-MM-DD.")],
    lexicon: Annotated[
        list[str] | None,
        typer.Option("--lexicon", help="Lexicon CSV, or 'default' (repeatable)."),
    ] = None,
    strategy: StrategyOpt = None,
    prices: PricesOpt = None,
    headlines: HeadlinesOpt = None,
    set_: SetOpt = None,
    label: _LabelOpt = "abnormal",
    debug: DebugOpt = False,
) -> None:
    """Headline IC of lexicons in a window: Spearman of score vs next-session label return."""
    import numpy as np

    from backtest.cli.options import strategy_config
    from backtest.lexicon_learn import label_headlines, label_ic, rank_ic
    from backtest.scoring import load_lexicon, score_headlines

    config = strategy_config(strategy, set_, prices=prices, headlines=headlines)
    labelled = label_headlines(config, start, end, label=label)
    frame = labelled.frame
    texts = frame["headline"]
    labels = frame["label"].to_numpy(np.float64)
    typer.echo(f"{len(frame)} labelled headlines in {start}..{end} ({label} next-session returns)")
    tickers = frame["ticker_idx"].to_numpy()
    sessions = frame["session_idx"].to_numpy()
    typer.echo("IC = Spearman of headline score vs its label; label IC = one point per")
    typer.echo("ticker-session (mean score of its headlines); scored = share of headlines != 0")
    typer.echo(f"{'lexicon':<40} {'IC':>8} {'label IC':>9} {'scored':>8}")
    for name in lexicon or ["default"]:
        lex = load_lexicon(None if name == "default" else name)
        scores = score_headlines(texts, lex)
        scored = float(np.mean(scores != 0.0)) if len(scores) else 0.0
        typer.echo(
            f"{name:<40} {rank_ic(scores, labels):>+8.4f} "
            f"{label_ic(scores, labels, tickers, sessions):>+9.4f} {scored:>8.1%}"
        )
