"""``backtest data validate``: what a price and headline file pair holds and how well they cover
each other, before a backtest trusts them. Loader errors are fatal (raised); coverage problems
are listed."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from backtest.calendar import known_at_ns, load_sessions, tradeable_session


@dataclass
class Validation:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def render(self) -> str:
        out = list(self.lines)
        out.append("")
        if self.problems:
            out.append(f"Problems ({len(self.problems)}):")
            out.extend(f"  - {p}" for p in self.problems)
        else:
            out.append("No problems found.")
        return "\n".join(out)


def validate_data(
    prices: pd.DataFrame,
    headlines: pd.DataFrame,
    *,
    prices_source: str,
    headlines_source: str,
    calendar: str,
    headlines_tz: str,
) -> Validation:
    """Counts, ranges and coverage of validated prices and headlines on the exchange calendar."""
    report = Validation()
    tickers = sorted(prices["ticker"].unique())
    first, last = prices["date"].min(), prices["date"].max()
    report.lines += [
        f"Prices:    {prices_source}",
        f"  {len(prices):,} rows, {len(tickers)} tickers, {first:%Y-%m-%d} to {last:%Y-%m-%d}",
    ]
    sessions = load_sessions(calendar, first, last)
    grid = pd.DatetimeIndex(sessions.dates)
    off_calendar = int((~prices["date"].isin(grid)).sum())
    if off_calendar:
        report.problems.append(
            f"{off_calendar} price rows fall on dates that are not {calendar} sessions (ignored)"
        )
    per_ticker = prices.groupby("ticker")["date"].agg(["min", "max", "count"])
    for ticker, row in per_ticker.iterrows():
        expected = int(((grid >= row["min"]) & (grid <= row["max"])).sum())
        missing = expected - int(row["count"])
        if missing > 0:
            report.problems.append(
                f"{ticker}: {missing} of {expected} sessions between {row['min']:%Y-%m-%d} and "
                f"{row['max']:%Y-%m-%d} have no price (they stay missing; nothing is filled)"
            )
    report.lines += [
        f"Headlines: {headlines_source}",
        f"  {len(headlines):,} rows, {headlines['ticker'].nunique()} tickers"
        + (
            f", {headlines['published_at'].min():%Y-%m-%d %H:%M} to "
            f"{headlines['published_at'].max():%Y-%m-%d %H:%M} UTC"
            if len(headlines)
            else ""
        ),
    ]
    if not len(headlines):
        report.problems.append("the headline file holds no rows")
        return report
    no_prices = ~headlines["ticker"].isin(tickers)
    if no_prices.any():
        names = headlines.loc[no_prices, "ticker"].value_counts()
        report.problems.append(
            f"{int(no_prices.sum()):,} headlines ({no_prices.mean():.1%}) name tickers without "
            f"prices: {', '.join(names.index[:10])}{' ...' if len(names) > 10 else ''} (ignored)"
        )
    published = headlines["published_at"].to_numpy("datetime64[ns]").astype(np.int64)
    known = known_at_ns(published, headlines["date_only"].to_numpy(bool), sessions, tz=headlines_tz)
    before = known < sessions.open_ns[0]
    after = tradeable_session(known, sessions, at="open") >= len(sessions)
    inside_session = _during_session(known, sessions)
    report.lines += [
        f"  {headlines['date_only'].mean():.1%} date-only stamps (known after that day's close)",
        f"  {inside_session.mean():.1%} published during a session, "
        f"{1 - inside_session.mean():.1%} outside sessions (pre-market, after hours, "
        "weekends, holidays)",
    ]
    if before.any():
        report.problems.append(
            f"{int(before.sum()):,} headlines precede the first price session (they only add to "
            "the news flow's history)"
        )
    if after.any():
        report.problems.append(
            f"{int(after.sum()):,} headlines are tradeable only after the last price session "
            "(ignored)"
        )
    counts = headlines.loc[~no_prices, "ticker"].value_counts()
    report.lines.append(
        "  headlines per ticker: " + ", ".join(f"{t} {n:,}" for t, n in counts.items())
    )
    without_news = [t for t in tickers if t not in counts.index]
    if without_news:
        report.problems.append(
            f"{len(without_news)} tickers have prices but no headlines: "
            + ", ".join(without_news[:10])
        )
    return report


def _during_session(known_ns: np.ndarray, sessions) -> np.ndarray:
    """Whether each instant falls between a session's open and close."""
    position = np.searchsorted(sessions.open_ns, known_ns, side="right") - 1
    valid = position >= 0
    during = np.zeros(len(known_ns), dtype=bool)
    during[valid] = known_ns[valid] < sessions.close_ns[position[valid]]
    return during
