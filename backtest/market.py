"""The one prepare step: inputs in, a prepared market out, each part computed once, lazily.

Every research workflow (run, signal, sweep, walk-forward, lexicon learning) starts here:

1. Resolve the strategy (a path, a ``StrategyConfig`` or None) and the keyword inputs into one
   frozen config. Prices and headlines are file paths (or the embedded data) or DataFrames.
2. Load and validate both inputs once (data/), keep the requested tickers.
3. Lay the exchange's sessions over the data's span and pivot prices onto them (calendar,
   panel): the grid spans the first headline or price date to the last price date.
4. On first use, score the headlines once per lexicon (scoring).
5. On first use, place them on their tradeable session once per (execution.at, latency)
   (calendar's point-in-time rules), and attach each lexicon's scores to a placement.

A ``Market`` serves every strategy whose data section loads the same inputs; ``start``/``end``
only choose the period, so they may differ between the strategies one market serves.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from backtest.config import StrategyConfig, load_config
from backtest.errors import InputError

if TYPE_CHECKING:
    from backtest.data.panel import PricePanel
    from backtest.links import LinkInputs
    from backtest.news_quality import StoryFeatures
    from backtest.signals import PlacedHeadlines

PlacementKey = tuple[str, str, int]
"""(signal.lexicon, execution.at, execution.latency_ns): what a headline placement depends on."""

LOADING_KEYS = (
    "prices",
    "headlines",
    "headlines_tz",
    "news_time",
    "calendar",
    "prices_tz",
    "bar",
    "adjust",
    "tickers",
)
"""data.* keys that change what is loaded; strategies sharing these share one market."""


def placement_key(config: StrategyConfig) -> PlacementKey:
    """The placement a strategy trades on."""
    return (config.signal.lexicon, config.execution.at, config.execution.latency_ns)


@dataclass(frozen=True)
class LoadedData:
    """Validated inputs and where they came from."""

    prices: pd.DataFrame
    headlines: pd.DataFrame
    prices_source: str
    headlines_source: str
    prices_file: Path | None
    """The prices file, when the prices came from one file (for its sha256)."""
    headlines_file: Path | None
    released_prices: dict[str, Any] | None = None
    """Set once the rows of intraday ``prices`` were released (``Market.panel`` holds them): the
    prices' fingerprint, taken before (``prices_fingerprint``)."""

    def prices_fingerprint(self) -> dict[str, Any]:
        """Path, sha256, rows, tickers and first and last day of the prices (stats.json)."""
        if self.released_prices is not None:
            return self.released_prices
        from backtest.data.files import file_sha256, frame_sha256

        prices = self.prices
        return {
            "path": self.prices_source,
            "sha256": file_sha256(self.prices_file) if self.prices_file else frame_sha256(prices),
            "rows": int(len(prices)),
            "tickers": int(prices["ticker"].nunique()),
            "start": f"{prices['date'].min():%Y-%m-%d}",
            "end": f"{prices['date'].max():%Y-%m-%d}",
        }

    def without_price_rows(self) -> LoadedData:
        """The same inputs with the prices' rows released and their fingerprint kept: intraday
        bars hold ~80 bytes a row here, and the panel has what runs read."""
        return replace(
            self,
            prices=self.prices.iloc[:0].copy(),
            released_prices=self.prices_fingerprint(),
        )


class Market:
    """Validated inputs, the session grid and price panel, scores per lexicon and placements
    per (lexicon, at, latency); each computed once, on first use."""

    def __init__(self, config: StrategyConfig, data: LoadedData) -> None:
        self.config = config
        """The strategy the market was prepared for (its data section says what was loaded)."""
        self.data = data
        self._scores: dict[str, np.ndarray] = {}
        self._sessions_by_timing: dict[tuple[str, int], PlacedHeadlines] = {}
        self._placed: dict[PlacementKey, PlacedHeadlines] = {}
        self._novelty: dict[int, np.ndarray] = {}
        self._with_novelty: dict[tuple[PlacementKey, int], PlacedHeadlines] = {}
        self._links: dict[tuple[str, bool], LinkInputs] = {}

    def __repr__(self) -> str:
        return (
            f"<Market {len(self.tickers)} tickers, {len(self.data.headlines):,} headlines, "
            f"prices {self.data.prices_source}>"
        )

    @cached_property
    def panel(self) -> PricePanel:
        """Prices on the exchange's sessions (step 3)."""
        from backtest.calendar import load_sessions
        from backtest.data.panel import build_panel

        data, config = self.data, self.config
        grid_start, grid_end = session_grid_bounds(data)
        sessions = load_sessions(config.data.calendar, grid_start, grid_end)
        panel = build_panel(
            data.prices,
            sessions,
            adjust=config.data.adjust,
            source=data.prices_source,
            bar=config.data.bar,
            extended_hours=config.data.extended_hours,
        )
        if panel.bars is not None:
            # Intraday: the long rows are the largest thing a run holds; the panel has them.
            self.data = data.without_price_rows()
        return panel

    @property
    def tickers(self) -> tuple[str, ...]:
        return self.panel.tickers

    @property
    def dates(self) -> pd.DatetimeIndex:
        """Session dates of the whole grid."""
        return self.panel.dates

    def scores(self, lexicon: str) -> np.ndarray:
        """Every loaded headline's score under ``lexicon`` ("" = the packaged one), step 4."""
        if lexicon not in self._scores:
            from backtest.scoring import load_lexicon, score_headlines

            self._scores[lexicon] = score_headlines(
                self.data.headlines["headline"], load_lexicon(lexicon or None)
            )
        return self._scores[lexicon]

    def placed(self, config: StrategyConfig) -> PlacedHeadlines:
        """The scored, placed headlines ``config`` trades on (step 5), with the ``novelty`` of
        its ``news.novelty_window``."""
        self.check_serves(config)
        key = (placement_key(config), config.news.novelty_window)
        if key not in self._with_novelty:
            placed = self.placement(*key[0])
            rows = placed.frame["row"].to_numpy(np.int64)
            self._with_novelty[key] = replace(
                placed, frame=placed.frame.assign(novelty=self.novelty(key[1])[rows])
            )
        return self._with_novelty[key]

    @cached_property
    def story_features(self) -> StoryFeatures:
        """Text hashes, shingles, named tickers and relevance of every loaded row (once; kept
        on disk by content, news_quality.cached)."""
        from backtest.news_quality import cached_story_features

        return cached_story_features(self.data.headlines)

    @cached_property
    def named_columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Panel columns each loaded row's text names, as CSR (offsets, columns)."""
        from backtest.links import named_columns

        features = self.story_features
        return named_columns(
            features.text_code, features.named_offsets, features.named_symbols, self.tickers
        )

    def links(self, config: StrategyConfig) -> LinkInputs:
        """What ``config``'s links are learned from: named tickers and its peers file."""
        from backtest.links import LinkInputs, peer_matrix

        key = (config.data.peers, config.data.peers_directed)
        if key not in self._links:
            n = len(self.tickers)
            weights = np.zeros((n, n), dtype=np.float64)
            peers = pd.DataFrame(columns=["ticker", "peer", "weight", "relation"])
            if config.data.peers:
                from backtest.data.peers import load_peers

                weights, peers = peer_matrix(
                    load_peers(config.data.peers),
                    self.tickers,
                    directed=config.data.peers_directed,
                    source=config.data.peers,
                )
            offsets, columns = self.named_columns
            self._links[key] = LinkInputs(offsets, columns, weights, peers)
        return self._links[key]

    def novelty(self, window_sessions: int) -> np.ndarray:
        """Every loaded row's novelty over ``window_sessions`` news days (news_quality step 3)."""
        if window_sessions not in self._novelty:
            from backtest.news_quality import (
                cached,
                content_key,
                news_days,
                novelty,
                published_ns_of,
            )

            headlines = self.data.headlines
            published = published_ns_of(headlines)
            tickers = pd.factorize(headlines["ticker"])[0].astype(np.int64)
            days = news_days(published, self.panel.sessions.open_ns)
            key = content_key(headlines, days, f"novelty-{window_sessions}")
            self._novelty[window_sessions] = cached(
                key,
                lambda: {
                    "novelty": novelty(
                        tickers, days, published, self.story_features, window_sessions
                    )
                },
            )["novelty"]
        return self._novelty[window_sessions]

    def placement(self, lexicon: str, at: str, latency_ns: int) -> PlacedHeadlines:
        """Headlines with their tradeable session for (at, latency) and ``lexicon``'s scores.

        The frame keeps the loader's columns plus ``row`` (position in ``data.headlines``),
        ``text_hash``, ``n_named`` and ``relevance`` (news_quality), ``score``, ``ticker_idx``
        and ``session_idx``; ``placed(config)`` adds the config's ``novelty``.
        """
        key = (lexicon, at, latency_ns)
        if key not in self._placed:
            from backtest.signals import PlacedHeadlines

            timed = self._timed(at, latency_ns)
            scores = self.scores(lexicon)[timed.frame["row"].to_numpy(np.int64)]
            self._placed[key] = PlacedHeadlines(
                frame=timed.frame.assign(score=scores),
                dropped_no_prices=timed.dropped_no_prices,
                dropped_after_data=timed.dropped_after_data,
            )
        return self._placed[key]

    def tradeable_sessions(self, at: str, latency_ns: int) -> np.ndarray:
        """Grid row each placeable headline trades at, for one execution timing (no scoring)."""
        return self._timed(at, latency_ns).session_idx

    def _timed(self, at: str, latency_ns: int) -> PlacedHeadlines:
        """Tradeable sessions for one execution timing, shared by every lexicon."""
        timing = (at, latency_ns)
        if timing not in self._sessions_by_timing:
            from backtest.signals import place_headlines

            headlines = self.data.headlines
            features = self.story_features
            placed = place_headlines(
                headlines.assign(
                    row=np.arange(len(headlines), dtype=np.int64),
                    text_hash=features.text_hash,
                    n_named=features.n_named,
                    relevance=features.relevance,
                ),
                np.zeros(len(headlines)),
                self.panel,
                headlines_tz=self.config.data.headlines_tz,
                at=at,
                latency_ns=latency_ns,
            )
            warn_about_unplaced(placed, self.data)
            self._sessions_by_timing[timing] = placed
        return self._sessions_by_timing[timing]

    def period(self, config: StrategyConfig, placed_sessions: np.ndarray | None = None) -> slice:
        """Grid rows of ``config``'s period: its data.start/end, else the span of its news.

        ``placed_sessions`` overrides whose news spans the period (a sweep passes every
        placement's sessions so that all its sets share one date axis).
        """
        if placed_sessions is None:
            placed_sessions = self.placed(config).session_idx
        first, last = backtest_period(config, self.dates, placed_sessions)
        return slice(first, last + 1)

    def check_serves(self, config: StrategyConfig) -> None:
        """A strategy whose data section loads other inputs needs its own market."""
        ours, theirs = self.config.data, config.data
        differ = [k for k in LOADING_KEYS if getattr(ours, k) != getattr(theirs, k)]
        if differ:
            raise InputError(
                f"this market was prepared for other data (data.{differ[0]} differs: "
                f"{getattr(ours, differ[0])!r} here, {getattr(theirs, differ[0])!r} asked)",
                hint="call backtest.prepare(...) for that strategy's data",
            )


def resolve_config(
    strategy: str | Path | StrategyConfig | None = None,
    *,
    tickers: str | Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
    prices: str | Path | None = None,
    headlines: str | Path | None = None,
) -> StrategyConfig:
    """The one frozen config of a call: strategy, then the keyword inputs, then ``overrides``.

    ``overrides`` maps dotted keys to values (``{"signal.half_life": 3}``) or lists
    ``section.key=value`` strings, exactly like ``--set``.
    """
    config = strategy if isinstance(strategy, StrategyConfig) else load_config(strategy)
    sets: list[str] = []
    for key, value in (("data.prices", prices), ("data.headlines", headlines)):
        if value is not None:
            sets.append(f"{key}={_toml_text(_absolute_path(str(value)))}")
    if tickers is not None:
        names = tickers.split(",") if isinstance(tickers, str) else list(tickers)
        sets.append(f"data.tickers={_toml_text(','.join(names))}")
    for key, value in (("data.start", start), ("data.end", end)):
        if value is not None:
            sets.append(f"{key}={_toml_text(str(pd.Timestamp(value).date()))}")
    if isinstance(overrides, Mapping):
        sets += [f"{key}={_toml_text(value)}" for key, value in overrides.items()]
    elif overrides:
        sets += list(overrides)
    return config.with_overrides(sets) if sets else config


def _toml_text(value: Any) -> str:
    """A Python value as the TOML text of a ``--set`` value."""
    import tomli_w

    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, tuple):
        value = list(value)
    return tomli_w.dumps({"v": value}).partition("=")[2].strip()


def _absolute_path(value: str) -> str:
    """Paths are relative to the working directory; yf: specs and "" pass through."""
    if value.startswith(("yf:", "news:")) or not value:
        return value
    return str(Path(value).resolve()).replace("\\", "/")


def prepare(
    strategy: str | Path | StrategyConfig | None = None,
    *,
    prices: str | Path | pd.DataFrame | None = None,
    headlines: str | Path | pd.DataFrame | None = None,
    tickers: str | Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    overrides: Mapping[str, Any] | Sequence[str] | None = None,
) -> Market:
    """Load, validate and align the inputs once; scores and placements follow lazily.

    ``prices``/``headlines`` are paths (CSV, CSV.GZ, Parquet, JSONL; prices also ``yf:AAPL``
    or a cache folder) or DataFrames with the file columns; None means the strategy's data
    (the embedded StockNet set by default). Returns a :class:`Market`.

    >>> market = prepare(tickers="AAPL,MSFT")            # doctest: +SKIP
    >>> market.tickers                                   # doctest: +SKIP
    ('AAPL', 'MSFT')
    """
    frames = {"prices": prices, "headlines": headlines}
    paths = {k: v for k, v in frames.items() if v is not None and not _is_frame(v)}
    config = resolve_config(
        strategy, tickers=tickers, start=start, end=end, overrides=overrides, **paths
    )
    data = load_inputs(
        config,
        prices=prices if _is_frame(prices) else None,
        headlines=headlines if _is_frame(headlines) else None,
    )
    return Market(config, select_tickers(data, config))


def _is_fetch_cache(prices: str) -> bool:
    """A folder of Parquet files only is a ``backtest data fetch`` cache; a folder with CSV
    files (one Yahoo export per ticker, say) is read by ``load_prices`` itself."""
    if not prices or not Path(prices).is_dir():
        return False
    folder = Path(prices)
    return not any(folder.glob("*.csv")) and not any(folder.glob("*.csv.gz"))


def _is_frame(value: Any) -> bool:
    return isinstance(value, pd.DataFrame)


def load_inputs(
    config: StrategyConfig,
    *,
    prices: pd.DataFrame | None = None,
    headlines: pd.DataFrame | None = None,
) -> LoadedData:
    """Load prices and headlines named by the config (embedded data when unset), or validate
    the given frames in their place."""
    from backtest.data import embedded
    from backtest.data.headlines import headlines_from_frame, load_headlines
    from backtest.data.news_cache import is_news_cache
    from backtest.data.prices import load_prices, prices_from_frame

    data = config.data
    prices_file: Path | None = None
    if prices is not None:
        prices_source = "prices DataFrame"
        loaded_prices = prices_from_frame(prices, source=prices_source, prices_tz=data.prices_tz)
    elif data.prices.startswith("yf:") or _is_fetch_cache(data.prices):
        from backtest.data.fetch import load_cached_prices, parse_prices_source

        spec = parse_prices_source(data.prices)
        if spec is None:
            loaded_prices = load_cached_prices(None, cache_dir=Path(data.prices))
        elif data.bar:
            from backtest.data.fetch_bars import bars_folder, interval_of_bar

            loaded_prices = load_cached_prices(
                spec[1], cache_dir=bars_folder(interval_of_bar(data.bar))
            )
        else:
            loaded_prices = load_cached_prices(spec[1])
        prices_source = data.prices
    else:
        prices_path = Path(data.prices) if data.prices else embedded.EMBEDDED_PRICES
        loaded_prices = load_prices(prices_path, prices_tz=data.prices_tz)
        prices_source = str(prices_path)
        prices_file = None if prices_path.is_dir() else prices_path
    headlines_file: Path | None = None
    if headlines is not None:
        headlines_source = "headlines DataFrame"
        loaded_headlines = headlines_from_frame(
            headlines, headlines_tz=data.headlines_tz, source=headlines_source
        )
    elif data.headlines.startswith("news:") or is_news_cache(data.headlines):
        from backtest.data.news_cache import news_headlines, parse_news_spec
        from backtest.paths import news_cache_dir

        wanted = parse_news_spec(data.headlines)
        folder = news_cache_dir() if wanted is not None else Path(data.headlines)
        headlines_source = data.headlines
        loaded_headlines = headlines_from_frame(
            news_headlines(folder, wanted, data.news_time),
            headlines_tz=data.headlines_tz,
            source=headlines_source,
        )
    else:
        headlines_file = Path(data.headlines) if data.headlines else embedded.EMBEDDED_HEADLINES
        loaded_headlines = load_headlines(headlines_file, headlines_tz=data.headlines_tz)
        headlines_source = str(headlines_file)
    return LoadedData(
        prices=loaded_prices,
        headlines=loaded_headlines,
        prices_source=prices_source,
        headlines_source=headlines_source,
        prices_file=prices_file,
        headlines_file=headlines_file,
    )


def select_tickers(data: LoadedData, config: StrategyConfig) -> LoadedData:
    """Keep the configured tickers; a ticker without prices is an error naming it."""
    wanted = config.data.tickers
    if not wanted:
        return data
    available = set(data.prices["ticker"].unique())
    missing = [t for t in wanted if t not in available]
    if missing:
        close = difflib.get_close_matches(missing[0], sorted(available), n=1)
        hint = (
            f"did you mean {close[0]}?" if close else "run `backtest data validate` to list tickers"
        )
        raise InputError(
            f"ticker {missing[0]} has no prices in the data",
            file=data.prices_source,
            column="ticker",
            hint=hint,
        )
    keep = list(wanted)
    return LoadedData(
        prices=data.prices.loc[data.prices["ticker"].isin(keep)].reset_index(drop=True),
        headlines=data.headlines.loc[data.headlines["ticker"].isin(keep)].reset_index(drop=True),
        prices_source=data.prices_source,
        headlines_source=data.headlines_source,
        prices_file=data.prices_file,
        headlines_file=data.headlines_file,
    )


def warn_about_unplaced(placed: PlacedHeadlines, data: LoadedData) -> None:
    """Headlines that cannot trade are tolerated, and said so in one warning line each."""
    if placed.dropped_no_prices:
        warnings.warn(
            f"{data.headlines_source}: {placed.dropped_no_prices} headlines name tickers "
            "without prices; they are ignored",
            stacklevel=2,
        )
    if placed.dropped_after_data:
        warnings.warn(
            f"{data.headlines_source}: {placed.dropped_after_data} headlines are tradeable only "
            "after the last session with prices; they are ignored",
            stacklevel=2,
        )


def session_grid_bounds(data: LoadedData) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The grid spans the first headline or price date to the last price date."""
    first_price = data.prices["date"].min()
    last_price = data.prices["date"].max()
    start = first_price
    if len(data.headlines):
        first_news = data.headlines["published_at"].min().tz_convert(None).normalize()
        start = min(first_price, first_news)
    return start, last_price


def backtest_period(
    config: StrategyConfig, dates: pd.DatetimeIndex, placed_sessions: np.ndarray
) -> tuple[int, int]:
    """Row range [first, last] of the period: configured dates, else the span of the news.

    On intraday bars (time-zone-aware starts) the dates are the bars' days in the exchange's
    zone: --end includes that whole day."""
    data = config.data
    if dates.tz is not None:
        dates = pd.DatetimeIndex(dates.tz_localize(None).normalize())
    if data.start:
        first = int(dates.searchsorted(pd.Timestamp(data.start), side="left"))
    elif len(placed_sessions):
        first = int(placed_sessions.min())
    else:
        first = 0
    if data.end:
        last = int(dates.searchsorted(pd.Timestamp(data.end), side="right")) - 1
    elif len(placed_sessions):
        last = int(placed_sessions.max())
    else:
        last = len(dates) - 1
    last = min(last, len(dates) - 1)
    if first > last or first >= len(dates):
        raise InputError(
            f"the period {data.start or dates[0].date()}..{data.end or dates[-1].date()} holds no "
            f"session with prices (data spans {dates[0].date()}..{dates[-1].date()})",
            hint="choose --start/--end inside the data",
        )
    return first, last
