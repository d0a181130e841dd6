"""``backtest data show``: what the embedded data set holds and where it came from."""

from __future__ import annotations

from backtest.data import embedded


def describe_embedded() -> str:
    """Counts and ranges of the embedded files, followed by their SOURCES.md."""
    from backtest.data.headlines import load_headlines
    from backtest.data.prices import load_prices

    prices_path = embedded.EMBEDDED_PRICES
    headlines_path = embedded.EMBEDDED_HEADLINES
    prices = load_prices(prices_path)
    headlines = load_headlines(headlines_path)
    per_ticker = headlines["ticker"].value_counts()
    lines = [
        f"Embedded data set: {prices_path.parent}",
        f"  prices:    {prices_path.name}: {len(prices):,} rows, "
        f"{prices['ticker'].nunique()} tickers, "
        f"{prices['date'].min():%Y-%m-%d} to {prices['date'].max():%Y-%m-%d}",
        f"  headlines: {headlines_path.name}: {len(headlines):,} rows, "
        f"{headlines['ticker'].nunique()} tickers, "
        f"{headlines['published_at'].min():%Y-%m-%d %H:%M} to "
        f"{headlines['published_at'].max():%Y-%m-%d %H:%M} UTC",
        f"  headlines per ticker: min {per_ticker.min():,} ({per_ticker.idxmin()}), "
        f"median {int(per_ticker.median()):,}, max {per_ticker.max():,} ({per_ticker.idxmax()})",
        "",
        embedded.EMBEDDED_SOURCES.read_text(encoding="utf-8"),
    ]
    return "\n".join(lines)
