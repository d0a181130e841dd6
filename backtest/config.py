"""Strategy TOML -> one frozen, validated :class:`StrategyConfig`, with ``--set`` overrides.

Every parameter has exactly one default, here. Downstream code receives the config object and
never re-reads or re-defaults a value. Errors name the file, line or key and what to do.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_type_hints

from backtest.errors import InputError

EXECUTION_AT = ("open", "close")
ON_NEUTRAL = ("exit", "hold")
ADJUST = ("none", "total_return")

# Defaults of the workflows' own options (not strategy keys), each given here once.
HEADLINES_TZ = "America/New_York"
"""Time zone of naive headline timestamps unless the strategy says otherwise."""
REPORTS_DIR = Path("reports")
"""Parent of the timestamped run, sweep and walk-forward folders."""
LEXICON_MIN_COUNT = 30
"""A learned lexicon keeps terms seen with at least this many labels."""
LEXICON_TOP_K = 100
"""A learned lexicon keeps at most this many terms on each side."""
WALKFORWARD_TRAIN_SESSIONS = 504
"""In-sample window of a walk-forward, in sessions (two years)."""
WALKFORWARD_TEST_SESSIONS = 126
"""Out-of-sample window of a walk-forward, in sessions (half a year)."""
PBO_SPLITS = 16
"""Blocks of the probability of backtest overfitting (CSCV; Bailey et al. 2015 use 16)."""
HEADLINE_WINDOW_HALF_LIVES = 6
"""Headlines count behind a trade or a reading while their weight is at least 0.5 ** 6."""


@dataclass(frozen=True)
class DataConfig:
    """Where prices and headlines come from and which slice of them to trade."""

    prices: str = ""
    """Prices file (CSV, CSV.GZ, Parquet, JSONL), a yfinance cache spec ``yf:AAPL,MSFT``, or ""
    for the embedded StockNet data."""
    headlines: str = ""
    """Headlines file (CSV, CSV.GZ, JSONL, Parquet), or "" for the embedded StockNet data."""
    headlines_tz: str = HEADLINES_TZ
    """Time zone of naive headline timestamps (stamps with an offset or Z are exact)."""
    calendar: str = "XNYS"
    """exchange_calendars name of the exchange whose sessions the prices follow."""
    prices_tz: str = "America/New_York"
    """Time zone of naive bar timestamps in intraday prices (a ``timestamp`` column)."""
    bar: str = ""
    """Bar size of intraday prices ("1min", "5min", "15min", "1h"); "" detects it."""
    extended_hours: bool = False
    """Intraday prices: keep the bars before the open and after the close of each session's
    day (pre-market and after-hours trading); false drops them with a warning."""
    adjust: Literal["none", "total_return"] = "none"
    """"total_return" scales open and close by adj_close / close so dividends count."""
    tickers: tuple[str, ...] = ()
    """Tickers to trade; empty means every ticker with prices."""
    start: str = ""
    """First session of the backtest (YYYY-MM-DD); "" means the first session with headlines."""
    end: str = ""
    """Last session of the backtest (YYYY-MM-DD); "" means the last session with headlines."""
    news_time: Literal["published", "first_seen"] = "published"
    """Collected news (a ``backtest data fetch-news`` cache, ``news:AAPL``): place each story at
    its stated publication time ("published") or at when this tool first saw it ("first_seen",
    the conservative choice for news collected live). Files without a first_seen column are
    always placed by their timestamp."""
    peers: str = ""
    """Peers file (ticker, peer, weight, optional relation): fixed links that carry a ticker's
    news to its peers (signal.links = "peers" or "both"); "" for none."""
    peers_directed: bool = False
    """A peers row carries news from ticker to peer only; otherwise also back, unless the
    file has its own row for the way back."""


@dataclass(frozen=True)
class SignalConfig:
    """How headlines and prices become a 0..100 composite and a bull / neutral / bear label."""

    lexicon: str = ""
    """Lexicon CSV for the headline scorer; "" means the packaged finance lexicon."""
    half_life: float | str = 2.0
    """Half-life of a headline's weight in the news flow: a number of rows (sessions on daily
    prices, bars on intraday ones; fractions allowed) or, on intraday prices, a duration
    ("30min": 30min / bar size bars)."""
    news_normalise: Literal["sqrt_count", "none"] = "sqrt_count"
    """"sqrt_count" divides the decayed score sum by sqrt(max(1, decayed headline count)), so a
    ticker's news volume alone cannot pin its score at 100; "none" maps the raw decayed sum."""
    news_scale: float = 0.5
    """Normalised flow that reads about 88/100: news = 50 + 50 tanh(flow / news_scale)."""
    momentum_lookback: int = 20
    """Sessions of daily returns in the risk-adjusted momentum."""
    news_weight: float = 0.5
    """Weight of the news score in the composite."""
    momentum_weight: float = 0.5
    """Weight of the momentum score in the composite."""
    bull_above: float = 60.0
    """Composite at or above this reads bull."""
    bear_below: float = 40.0
    """Composite at or below this reads bear."""
    spillover: float = 0.0
    """Weight of the news that reaches a ticker through its links: its normalised flow gains
    spillover x sum over linked tickers of link weight x their own normalised flow (0 = off)."""
    links: Literal["comentions", "peers", "both"] = "comentions"
    """Which links carry spillover: learned from stories naming several tickers
    ("comentions"), the data.peers file ("peers"), or their sum ("both")."""
    comention_window: int = 60
    """Sessions of stories a co-mention link is learned from (the sessions before each one)."""
    comention_min: int = 3
    """Stories naming both tickers in the window before a co-mention link counts."""


@dataclass(frozen=True)
class ExecutionConfig:
    """When and how labels become trades."""

    at: Literal["open", "close"] = "open"
    """Trade at the tradeable session's open or close price."""
    latency: str = "5min"
    """News must be known this long before the execution price to trade at it: before the
    open (strictly; 5 minutes = 09:25 New York, NYSE's market-on-open cut-off being 09:28) or
    at least this long before the close. "0" gives "any time before the open"."""
    short: bool = True
    """Bear labels open short positions (otherwise they only exit longs)."""
    on_neutral: Literal["exit", "hold"] = "exit"
    """A neutral label exits the position or holds it."""
    hold_sessions: int = 0
    """Exit after this many sessions (bars on intraday prices) in a position (0 = no limit)."""
    hold: str = ""
    """Exit this long after entry: a number of rows (sessions on daily prices, bars on intraday
    ones) or, on intraday prices, a duration ("30min": ceil(30min / bar size) bars); ""
    uses hold_sessions."""
    flat_at_close: bool = False
    """Intraday prices: exit at the close of each session's last bar (no entry in that bar)."""
    fees: float = 0.0005
    """Fees as a fraction of traded value, each side."""
    slippage: float = 0.0005
    """Slippage as a fraction of the execution price, against the trader."""
    initial_cash: float = 100_000.0
    """Starting capital, split equally between the tickers' sleeves."""
    borrow_bps: float = 0.0
    """Cost of borrowing shorted shares, basis points a year of the short notional, charged
    every session (engine.py: taken from the returns)."""
    stop_loss: float = 0.0
    """Sleeves: exit when the price moves this fraction against the entry price, checked on
    each later session's low (long) or high (short), filled at the stop or at a gapped open
    (0 = off; kernels/stops.py)."""
    take_profit: float = 0.0
    """Sleeves: exit when the price moves this fraction in favour of the entry price, as
    ``stop_loss`` (0 = off)."""

    @property
    def latency_ns(self) -> int:
        """The latency in nanoseconds."""
        return _parse_duration_ns(self.latency)


@dataclass(frozen=True)
class NewsConfig:
    """Which headlines count in the news flow, and how much (all point in time)."""

    dedupe: bool = True
    """A story whose normalised text equals an earlier story of the same ticker within
    ``duplicate_window`` sessions is a reprint: it adds to neither the score sum nor the count."""
    duplicate_window: int = 1
    """Sessions a reprint may trail its original: 1 = the same tradeable session."""
    novelty_window: int = 5
    """Novelty compares a story with the same ticker's stories published before it in this many
    sessions (the story's own included)."""
    min_novelty: float = 0.0
    """Stories with a lower novelty (1 - highest Jaccard similarity of word pairs) are dropped."""
    novelty_weight: bool = False
    """Weight each story's score by its novelty."""
    max_tickers: int = 0
    """Drop stories that name more tickers than this (0 = no limit)."""
    min_relevance: float = 0.0
    """Drop (story, ticker) pairs less relevant than this (0..1)."""
    source_weights: dict[str, float] = field(default_factory=dict)
    """Weights by the source column: glob patterns, "*" for the rest ({} = every source 1)."""


@dataclass(frozen=True)
class PortfolioConfig:
    """How positions become a portfolio: per-ticker sleeves or one cross-sectional book."""

    construction: Literal["sleeves", "rank", "signal"] = "sleeves"
    """"sleeves": each ticker an equal sleeve, all in on its own label; "rank": long the top
    ``long`` and short the bottom ``short`` names by composite, equal weight within a leg, no
    label gate; "signal": weights proportional to composite - 50, scaled to ``gross``."""
    long: float = 0.2
    """Rank: names in the long leg; a fraction 0 < f < 1 of the tickers with an execution price
    that session (at least 1, rounded half to even), a number >= 1 a count, 0 none."""
    short: float = 0.2
    """Rank: names in the short leg, as ``long``."""
    gross: float = 1.0
    """Rank and signal: sum of |weights| (1.0: long and short legs together hold the equity).
    The book never borrows cash: a long leg beyond the equity plus the short proceeds (a
    signal book with gross above 1 and mostly bullish names) fills only partly."""
    net: float = 0.0
    """Rank: long leg minus short leg, as a fraction of equity (0: dollar neutral)."""
    max_weight: float = 0.0
    """Cap on any name's |weight| (0: no cap); the excess stays in cash."""
    rebalance: Literal["session", "weekly", "monthly", "on_signal"] = "session"
    """Rank and signal: trade back to target every session, on the first session of each week
    or month, or when the target's sides (which names are long, short, out) change."""
    vol_target: float = 0.0
    """Rank and signal: annualised volatility to aim for (0 = off). Each rebalance scales the
    target by min(1, vol_target / the target's trailing realised volatility), the returns
    known at decision time: ``gross`` stays the ceiling, the book only de-levers."""
    vol_lookback: int = 20
    """Sessions of close-to-close returns behind ``vol_target``'s realised volatility."""


@dataclass(frozen=True)
class BaselinesConfig:
    """Luck baselines reported beside the strategy (analytics/baselines.py); seeded."""

    random_runs: int = 200
    """Random-timing strategies: each ticker's holding periods shuffled across its sessions
    (0 = off)."""
    bootstrap_runs: int = 1000
    """Stationary block bootstrap resamples of the daily returns (0 = off)."""
    block_sessions: float = 10.0
    """Mean block length of the bootstrap, in sessions (at least 1)."""
    seed: int = 16
    """Seed of both baselines: the same seed gives the same numbers."""


@dataclass(frozen=True)
class ReportConfig:
    """What the report measures against."""

    benchmark_ticker: str = ""
    """Intraday event study: abnormal returns against this ticker of the prices (e.g. SPY)
    instead of the equal-weight mean of every ticker ("")."""


@dataclass(frozen=True)
class StrategyConfig:
    """The whole strategy: one object passed down from the CLI to every stage."""

    name: str = "default"
    data: DataConfig = field(default_factory=DataConfig)
    signal: SignalConfig = field(default_factory=SignalConfig)
    execution: ExecutionConfig = field(default_factory=ExecutionConfig)
    news: NewsConfig = field(default_factory=NewsConfig)
    portfolio: PortfolioConfig = field(default_factory=PortfolioConfig)
    baselines: BaselinesConfig = field(default_factory=BaselinesConfig)
    report: ReportConfig = field(default_factory=ReportConfig)

    def to_dict(self) -> dict[str, Any]:
        """The config as plain TOML-ready data (tuples become lists)."""
        out: dict[str, Any] = {"name": self.name}
        for section in SECTIONS:
            values = dataclasses.asdict(getattr(self, section))
            out[section] = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
        return out

    def to_toml(self) -> str:
        """The config as a TOML document with every default filled in."""
        import tomli_w

        return tomli_w.dumps(self.to_dict())

    def with_overrides(self, overrides: Sequence[str]) -> StrategyConfig:
        """A copy with ``section.key=value`` overrides applied and validated."""
        data = self.to_dict()
        for item in overrides:
            section, key, value = _parse_override(item)
            data.setdefault(section, {})[key] = value
        return _build(data, source="--set")


SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "signal": SignalConfig,
    "execution": ExecutionConfig,
    "news": NewsConfig,
    "portfolio": PortfolioConfig,
    "baselines": BaselinesConfig,
    "report": ReportConfig,
}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h)?\s*$")
_NUMBER = re.compile(r"^\s*[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?\s*$")


def _parse_duration_ns(text: str | float | int) -> int:
    """'5min', '90s', '1h' or a bare number of minutes -> nanoseconds."""
    match = _DURATION.match(str(text))
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    amount = float(match.group(1))
    unit = match.group(2) or "min"
    seconds = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}[unit] * amount
    return int(round(seconds * 1e9))


def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> StrategyConfig:
    """Read a strategy TOML (or the defaults when ``path`` is None) and apply ``--set`` overrides.

    Relative data and lexicon paths in the file are resolved against the file's folder.
    """
    if path is None:
        config = StrategyConfig()
    else:
        path = Path(path)
        if not path.is_file():
            raise InputError(
                "strategy file not found",
                file=path,
                hint="pass an existing TOML file to --strategy",
            )
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except UnicodeDecodeError:
            raise InputError("strategy file is not UTF-8 text", file=path) from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError(
                f"TOML syntax error: {exc}", file=path, hint="fix the TOML syntax at that line"
            ) from None
        raw.setdefault("name", path.stem)
        _resolve_relative_paths(raw, path.parent)
        config = _build(raw, source=str(path))
    return config.with_overrides(overrides) if overrides else config


def _resolve_relative_paths(raw: dict[str, Any], base: Path) -> None:
    """Make file paths in the strategy relative to the strategy file, as a reader expects."""
    for section, key in (
        ("data", "prices"),
        ("data", "headlines"),
        ("data", "peers"),
        ("signal", "lexicon"),
    ):
        table = raw.get(section)
        if not isinstance(table, dict):
            continue
        value = table.get(key)
        if (
            isinstance(value, str)
            and value
            and ":" not in value[:4]
            and not Path(value).is_absolute()
        ):
            table[key] = str((base / value).resolve())


def _parse_override(item: str) -> tuple[str, str, Any]:
    """'section.key=value' -> (section, key, value); the value is read as TOML when it parses."""
    name, sep, text = item.partition("=")
    if not sep or "." not in name:
        raise InputError(
            f"--set {item!r} is not of the form section.key=value",
            hint="for example --set signal.half_life=3",
        )
    section, _, key = name.strip().partition(".")
    check_key(section, key, source="--set")
    text = text.strip()
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text
    return section, key, value


def check_key(section: str, key: str | None, *, source: str) -> None:
    """Unknown sections and keys are errors that suggest the closest valid name."""
    if section not in SECTIONS:
        close = difflib.get_close_matches(section, list(SECTIONS), n=1)
        hint = f"did you mean [{close[0]}]?" if close else f"valid sections: {', '.join(SECTIONS)}"
        raise InputError(f"unknown section [{section}]", file=source, hint=hint)
    if key is None:
        return
    valid = [f.name for f in fields(SECTIONS[section])]
    if key not in valid:
        close = difflib.get_close_matches(key, valid, n=1)
        hint = f"did you mean {section}.{close[0]}?" if close else f"valid keys: {', '.join(valid)}"
        raise InputError(f"unknown key {section}.{key}", file=source, hint=hint)


@functools.cache
def field_types(section: str) -> dict[str, Any]:
    """The annotated type of every key of a section (resolved once: sweeps build many configs)."""
    return get_type_hints(SECTIONS[section])


def _build(raw: Mapping[str, Any], *, source: str) -> StrategyConfig:
    """Validate raw TOML data into a StrategyConfig; every error names the key."""
    unknown_top = [k for k in raw if k != "name" and k not in SECTIONS]
    for key in unknown_top:
        if isinstance(raw[key], dict):
            check_key(key, None, source=source)
        valid = ["name", *SECTIONS]
        close = difflib.get_close_matches(key, valid, n=1)
        hint = f"did you mean {close[0]}?" if close else f"valid top-level keys: {', '.join(valid)}"
        raise InputError(f"unknown key {key}", file=source, hint=hint)
    name = raw.get("name", "default")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name):
        raise InputError(
            f"name {name!r} must be 1-64 letters, digits, '.', '_' or '-'",
            file=source,
            hint="it becomes part of the run folder's name",
        )
    sections = {}
    for section, cls in SECTIONS.items():
        table = raw.get(section, {})
        if not isinstance(table, Mapping):
            raise InputError(f"[{section}] must be a table", file=source)
        for key in table:
            check_key(section, key, source=source)
        hints = field_types(section)
        values = {k: coerce_value(f"{section}.{k}", v, hints[k], source) for k, v in table.items()}
        sections[section] = cls(**values)
    config = StrategyConfig(name=name, **sections)
    _validate(config, source)
    return config


def coerce_value(key: str, value: Any, annotation: Any, source: str) -> Any:
    """Check one value against its field type; ints pass as floats, strings list as tuples."""

    def fail(expected: str) -> InputError:
        return InputError(f"{key} = {value!r}: expected {expected}", file=source)

    origin = getattr(annotation, "__origin__", None)
    if origin is Literal:
        choices = get_args(annotation)
        if value not in choices:
            raise fail("one of " + ", ".join(repr(c) for c in choices))
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise fail("true or false")
        return value
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail("a whole number")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise fail("a number")
        if not math.isfinite(value):
            raise fail("a finite number")
        return float(value)
    if annotation is str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise fail("a string")
        return str(value)
    if annotation == float | str:  # a number of rows, or a duration such as "30min"
        if isinstance(value, str) and _NUMBER.match(value):
            value = float(value)
        if isinstance(value, str):
            try:
                _parse_duration_ns(value)
            except ValueError:
                raise fail(
                    'a number (sessions, or bars on intraday prices) or a duration such as "30min"'
                ) from None
            return value.strip()
        return coerce_value(key, value, float, source)
    if origin is dict:
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str)
            and not isinstance(v, bool)
            and isinstance(v, int | float)
            and math.isfinite(v)
            and v >= 0
            for k, v in value.items()
        ):
            raise fail('a table of non-negative numbers such as { "Reuters" = 1.0, "*" = 0.5 }')
        return {str(k): float(v) for k, v in value.items()}
    if origin is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise fail('a list of strings such as ["AAPL", "MSFT"]')
        return tuple(i.strip().upper() for i in items if i.strip())
    raise fail(str(annotation))


def _validate(config: StrategyConfig, source: str) -> None:
    """Cross-field and range checks: impossible values are errors naming the key."""
    s, e, d = config.signal, config.execution, config.data

    def bad(key: str, why: str, hint: str | None = None) -> InputError:
        return InputError(f"{key}: {why}", file=source, hint=hint)

    if isinstance(s.half_life, str):
        if not _parse_duration_ns(s.half_life) > 0:
            raise bad("signal.half_life", f"must be a positive duration, got {s.half_life!r}")
    elif not s.half_life > 0:
        raise bad("signal.half_life", f"must be a positive number of sessions, got {s.half_life}")
    if not s.news_scale > 0:
        raise bad("signal.news_scale", f"must be positive, got {s.news_scale}")
    if s.momentum_lookback < 2:
        raise bad(
            "signal.momentum_lookback", f"must be at least 2 sessions, got {s.momentum_lookback}"
        )
    if s.news_weight < 0 or s.momentum_weight < 0 or s.news_weight + s.momentum_weight <= 0:
        raise bad(
            "signal.news_weight",
            "news_weight and momentum_weight must be >= 0 and not both 0",
        )
    for key, value in (("signal.bull_above", s.bull_above), ("signal.bear_below", s.bear_below)):
        if not 0 <= value <= 100:
            raise bad(key, f"must lie in 0..100, got {value}")
    if s.bull_above <= s.bear_below:
        raise bad(
            "signal.bull_above",
            f"bull_above ({s.bull_above:g}) must be greater than bear_below ({s.bear_below:g})",
        )
    if e.fees < 0 or e.fees >= 1:
        raise bad("execution.fees", f"must be a fraction in [0, 1), got {e.fees}")
    if e.slippage < 0 or e.slippage >= 1:
        raise bad("execution.slippage", f"must be a fraction in [0, 1), got {e.slippage}")
    if e.hold_sessions < 0:
        raise bad("execution.hold_sessions", f"must be >= 0 (0 = no limit), got {e.hold_sessions}")
    if e.hold and not re.fullmatch(r"\d+", e.hold.strip()):
        try:
            _parse_duration_ns(e.hold)
        except ValueError:
            raise bad(
                "execution.hold",
                f"{e.hold!r} is neither a number of sessions nor a duration",
                'use e.g. 3 (rows) or "30min" (intraday)',
            ) from None
    if not e.initial_cash > 0:
        raise bad("execution.initial_cash", f"must be positive, got {e.initial_cash}")
    try:
        _parse_duration_ns(e.latency)
    except ValueError:
        raise bad(
            "execution.latency", f"{e.latency!r} is not a duration", 'use e.g. "5min"'
        ) from None
    if not s.spillover >= 0:
        raise bad("signal.spillover", f"must be >= 0 (0 = off), got {s.spillover}")
    if s.comention_window < 1:
        raise bad(
            "signal.comention_window", f"must be at least 1 session, got {s.comention_window}"
        )
    if s.comention_min < 1:
        raise bad("signal.comention_min", f"must be at least 1 story, got {s.comention_min}")
    if s.links != "comentions" and not d.peers:
        raise bad(
            "signal.links",
            f'"{s.links}" needs a peers file',
            'set data.peers = "peers.csv" (ticker, peer, weight) or use links = "comentions"',
        )
    n = config.news
    if n.duplicate_window < 1:
        raise bad("news.duplicate_window", f"must be at least 1 session, got {n.duplicate_window}")
    if n.novelty_window < 1:
        raise bad("news.novelty_window", f"must be at least 1 session, got {n.novelty_window}")
    if n.max_tickers < 0:
        raise bad("news.max_tickers", f"must be >= 0 (0 = no limit), got {n.max_tickers}")
    for key, value in (
        ("news.min_novelty", n.min_novelty),
        ("news.min_relevance", n.min_relevance),
    ):
        if not 0 <= value <= 1:
            raise bad(key, f"must lie in 0..1, got {value}")
    if d.bar:
        try:
            if _parse_duration_ns(d.bar) <= 0:
                raise ValueError(d.bar)
        except ValueError:
            raise bad("data.bar", f"{d.bar!r} is not a bar size", 'use e.g. "5min"') from None
    if e.borrow_bps < 0:
        raise bad("execution.borrow_bps", f"must be >= 0 basis points a year, got {e.borrow_bps}")
    if not 0 <= e.stop_loss < 1:
        raise bad(
            "execution.stop_loss", f"must be a fraction in [0, 1) (0 = off), got {e.stop_loss}"
        )
    if e.take_profit < 0:
        raise bad("execution.take_profit", f"must be >= 0 (0 = off), got {e.take_profit}")
    if (e.stop_loss > 0 or e.take_profit > 0) and config.portfolio.construction != "sleeves":
        raise bad(
            "execution.stop_loss",
            "stop_loss and take_profit apply to sleeves only",
            'set portfolio.construction = "sleeves" or both to 0',
        )
    _validate_portfolio(config.portfolio, bad)
    _validate_baselines(config.baselines, bad)
    for key, value in (("data.start", d.start), ("data.end", d.end)):
        if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise bad(key, f"{value!r} is not a date", "use YYYY-MM-DD")
    if d.start and d.end and d.start > d.end:
        raise bad("data.start", f"start {d.start} is after end {d.end}")


def _validate_portfolio(p: PortfolioConfig, bad: Any) -> None:
    """Range checks of [portfolio]."""
    for key, value in (("portfolio.long", p.long), ("portfolio.short", p.short)):
        if value < 0 or (value >= 1 and value != int(value)):
            raise bad(
                key,
                f"must be a fraction in [0, 1) or a whole number of names, got {value:g}",
                "e.g. 0.2 for the top 20% or 5 for five names",
            )
    if not p.gross > 0:
        raise bad("portfolio.gross", f"must be positive, got {p.gross:g}")
    if abs(p.net) > p.gross:
        raise bad("portfolio.net", f"|net| ({p.net:g}) must not exceed gross ({p.gross:g})")
    if p.net > 1:
        raise bad(
            "portfolio.net",
            f"a net long of {p.net:g} would need borrowed cash: the book never borrows cash",
            "keep portfolio.net <= 1 (gross above 1 is fine: short sales fund the long leg)",
        )
    if p.max_weight < 0:
        raise bad("portfolio.max_weight", f"must be >= 0 (0 = no cap), got {p.max_weight:g}")
    if p.vol_target < 0:
        raise bad("portfolio.vol_target", f"must be >= 0 (0 = off), got {p.vol_target:g}")
    if p.vol_lookback < 2:
        raise bad("portfolio.vol_lookback", f"must be at least 2 sessions, got {p.vol_lookback}")


def _validate_baselines(b: BaselinesConfig, bad: Any) -> None:
    """Range checks of [baselines]."""
    for key, value in (
        ("baselines.random_runs", b.random_runs),
        ("baselines.bootstrap_runs", b.bootstrap_runs),
    ):
        if value < 0:
            raise bad(key, f"must be >= 0 (0 = off), got {value}")
    if not b.block_sessions >= 1:
        raise bad("baselines.block_sessions", f"must be at least 1 session, got {b.block_sessions}")
    if b.seed < 0:
        raise bad("baselines.seed", f"must be >= 0, got {b.seed}")


def override(config: StrategyConfig, section: str, **values: Any) -> StrategyConfig:
    """A copy with some keys of one section replaced, validated like a --set."""
    data = config.to_dict()
    data[section].update(values)
    return _build(data, source="--set")


__all__ = [
    "ADJUST",
    "BaselinesConfig",
    "PortfolioConfig",
    "EXECUTION_AT",
    "ON_NEUTRAL",
    "DataConfig",
    "ExecutionConfig",
    "NewsConfig",
    "SignalConfig",
    "StrategyConfig",
    "check_key",
    "coerce_value",
    "load_config",
    "override",
]
