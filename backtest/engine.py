"""Positions or weights -> vectorbt portfolio: equal-capital sleeves (the default) or one
shared-cash cross-sectional portfolio, and their equal-weight buy-and-hold benchmark.

The engine only wires arrays into ``vectorbt.Portfolio.from_orders``; which position is held
when is decided upstream (kernels). The accounting below is the contract that an independent
recomputation from ``signals.csv`` (column ``position``) and the prices reproduces to 1e-9.

Algorithm, for ``n`` tickers, sessions ``t = 0..T-1``, ticker ``k``:

1. Split the capital: every ticker is a sleeve with its own cash ``c = initial_cash / n``; sleeves
   never share cash. Before a ticker's first price its sleeve simply holds cash.
2. Target: ``positions[t, k]`` in {-1, 0, +1} is the side to hold from session ``t``'s execution
   price ``exec_price[t, k]`` (the open for ``execution.at = "open"``, the close for ``"close"``).
   Nothing is shifted here: vectorbt fills on the signal's own bar.
3. Fill: if the sleeve's current side differs from the target and ``exec_price[t, k]`` is a
   finite positive number, trade at that price; otherwise (missing, NaN or non-positive price)
   no order fills and the sleeve keeps its side until the next session with a price (callers
   do not change positions on such sessions; this only makes the engine robust).
3b. Stops (``execution.stop_loss`` / ``take_profit``, kernels.stops.apply_stops): on a session
   where a stop fired, the exit fills at the stop's price (or the session's open if it gapped
   through) instead of the execution price, the one fill that is neither an open nor a close;
   ``positions`` is 0 from that session and trades.csv's ``exit_reason`` names the stop.
4. A trade first closes the current holding, then goes all-in on the new side, with slippage
   ``s`` and fees ``f`` as fractions:

   - sell ``q`` shares (close a long): fill price ``p*(1-s)``; ``cash += q*p*(1-s)*(1-f)``
   - buy back ``q`` shares (close a short): fill price ``p*(1+s)``; ``cash -= q*p*(1+s)*(1+f)``
   - open long: ``q = cash / (p*(1+s)*(1+f))``, ``cash -= q*p*(1+s)*(1+f)`` (= 0)
   - open short: ``q = cash / (p*(1-s)*(1+f))``, ``cash += q*p*(1-s)*(1-f)``

   Fees are proportional to the slipped notional and paid from the sleeve's cash. A reversal
   (long -> short or short -> long) is one vectorbt order of the combined size on that bar and
   gives the same numbers as the two steps above.
5. Valuation at every session's close: ``sleeve_value = cash + shares * mark``, where ``mark``
   is the last price seen by that session's close: the close if there is one, else the
   session's execution price if there is one, else the previous mark (forward-filled, for
   valuation only; no forward-filled price is ever traded on). Short shares are negative,
   so a short sleeve is worth its cash (sale proceeds included) minus the cost to buy back.
6. ``equity[t]`` = sum of the sleeve values; ``returns = equity.pct_change()``.
7. Benchmark: the same engine with ``positions = +1`` everywhere, i.e. each sleeve buys its
   ticker at the first session with an execution price (paying fees and slippage once) and
   holds to the end: equal-weight buy-and-hold with the same prices and costs.

Trades are vectorbt's exit trades: one row per opened-then-closed (or still open) position
leg; a reversal closes one trade and opens the next on the same session.

Orders: ``order_arrays`` turns the targets into one order per side change that can fill (step 3):
``size = +inf`` / ``-inf`` with ``size_type = "amount"`` goes all-in long / short (a reversal
included), ``size = 0`` with ``size_type = "targetamount"`` goes flat, NaN elsewhere places no
order. It compares each target with the side actually held, i.e. the last target seen on a
session with a tradeable price, so a change on a session without a price fills at the next one.

Cross-sectional constructions (``portfolio.construction = "rank"`` or ``"signal"``,
``simulate_weights``): one shared pool of cash, ``initial_cash``, for all tickers.

W1. Targets: ``weights[t, k]`` is the fraction of equity to hold in ticker k from session t's
    execution price (negative: short), set on the sessions that rebalance
    (kernels.weights.target_weights; scaled down by signals.vol_scaled under
    ``portfolio.vol_target``) and carried forward between them.
W2. On a rebalancing session, for every ticker with a tradeable execution price, one order
    trades to ``weights[t, k] * E_t / p`` shares, where ``E_t = cash + sum_k shares_k * p_k``
    is the equity valued at the session's execution prices (``p_k``; the last price seen for a
    ticker without one). Sells go first so their cash funds the buys (vectorbt ``call_seq =
    "auto"``). A ticker without an execution price places no order and keeps its shares.
    Between rebalances no order is placed: shares are held and the weights drift.
W3. Fees and slippage as in step 4 (fill at ``p*(1+s)`` buying, ``p*(1-s)`` selling, fees a
    fraction ``f`` of the slipped notional, paid from cash); they are paid on every rebalance
    trade, including the small ones that bring drifted weights back to target.
W4. Valuation at every close: ``equity = cash + sum_k shares_k * mark_k`` (step 5's mark).
    With zero costs and a rebalance every session, this is, with ``E_t`` the equity at the
    open of t: ``E_{t+1} = E_t * (1 + sum_k w[t,k] * (open[t+1,k]/open[t,k] - 1))`` and
    ``close equity_t = E_t * (1 + sum_k w[t,k] * (close[t,k]/open[t,k] - 1))``.
W5. Trades are vectorbt's positions (one row from opening a name to closing it, resizes
    included), not exit trades: a daily re-target would otherwise close a sliver every session.
    ``sleeve_value[:, k]`` is ``initial_cash / n`` plus ticker k's cumulative P&L (its holding's
    value plus its net cash flows, fees included), so per-ticker figures read as contributions.

Borrow (every construction): ``execution.borrow_bps`` per year of the short notional at each
close is charged that session: ``c_t = borrow_bps / 10_000 / 252 * short_notional_t /
equity_t`` and the reported curve compounds ``1 + r_t - c_t`` where ``r_t`` is the curve's
return before borrow. The charge is taken from the returns, not from the cash the orders size
from (with the defaults' 0 bps nothing changes; at 50 bps a year on half the equity short, the
sizing it ignores is about 1e-4 of equity a year).

Cost: ``from_orders``' simulator and the order builder are jitted with ``cache=True``, so only
the first process ever compiles them; a later process simulates 566 sessions x 40 tickers
(strategy and benchmark, trades included) in about 0.25 s, plus about 2 s to import vectorbt.
(``from_signals``, used before, takes function arguments and was recompiled in every process:
about 6 s more per process.)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import pandas as pd

from backtest.errors import InputError
from backtest.kernels.stops import EXIT_REASONS

TRADE_COLUMNS = [
    "ticker",
    "side",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "size",
    "fees",
    "pnl",
    "return",
    "status",
    "exit_reason",
]
FILL_RULES: dict[str, Any] = {
    "fixed_fees": 0.0,
    "min_size": 0.0,
    "max_size": np.inf,
    "size_granularity": np.nan,
    "reject_prob": 0.0,
    "lock_cash": False,
    "allow_partial": True,
    "raise_reject": False,
    "log": False,
    "val_price": np.inf,
    "ffill_val_price": True,
    "update_value": False,
}
"""How every ``from_orders`` call of the engine fills, spelled out so vectorbt's settings
cannot change it: no fixed fees, any size, never rejected, valued at the fill price."""


@dataclass(frozen=True, eq=False)
class Simulation:
    """One backtest's results: the vectorbt portfolios and the frames the outputs are built from.

    Values are in the currency of the prices; every frame/series is indexed by session date
    (the portfolios by ``naive_index`` of it: ``labelled`` puts a bar index's zone back).
    ``trades`` has the columns ``TRADE_COLUMNS``: prices are fill prices (slippage included),
    ``fees`` is entry plus exit fees, ``pnl``/``return`` are net of fees, and open trades have
    ``exit_time`` NaT, ``exit_price`` NaN and ``pnl``/``return`` marked at the last valuation
    price.
    """

    portfolio: Any
    benchmark_portfolio: Any
    equity: pd.Series
    benchmark: pd.Series
    returns: pd.Series
    benchmark_returns: pd.Series
    sleeve_value: pd.DataFrame
    positions: pd.DataFrame
    trades: pd.DataFrame
    weights: pd.DataFrame | None = None
    """Target weight of equity per (session, ticker) (``simulate_weights``); None for sleeves."""
    traded: pd.Series | None = None
    """Value traded each session over the equity at the previous close (``simulate_weights``)."""


def simulate(
    positions: np.ndarray,
    exec_price: np.ndarray,
    close: np.ndarray,
    *,
    dates: pd.DatetimeIndex,
    tickers: Sequence[str],
    initial_cash: float,
    fees: float,
    slippage: float,
    borrow_bps: float = 0.0,
    stop_fill: np.ndarray | None = None,
    stop_reason: np.ndarray | None = None,
    benchmark: pd.Series | None = None,
) -> Simulation:
    """Run the strategy and its equal-weight buy-and-hold benchmark (module docstring, steps 1-7;
    borrow as in its last paragraph).

    ``stop_fill`` and ``stop_reason`` (kernels.stops.apply_stops) make the sessions where a
    stop fired fill at the stop's price instead of the execution price (step 3b) and name the
    exit in trades' ``exit_reason``.

    ``benchmark``: the benchmark curve of an earlier simulation with the same prices, cash and
    costs (it depends on nothing else), used as is; ``benchmark_portfolio`` is then None.

    ``positions``, ``exec_price`` and ``close`` are (n_sessions, n_tickers) arrays aligned with
    ``dates`` and ``tickers``; missing prices are NaN.
    """
    pos = _check_inputs(positions, exec_price, close, dates, tickers, initial_cash, fees, slippage)
    if stop_fill is not None:
        stop_fill = np.asarray(stop_fill, dtype=np.float64)
        price = tradeable_price(np.where(np.isfinite(stop_fill), stop_fill, exec_price))
    else:
        price = tradeable_price(exec_price)
    mark = valuation_price(exec_price, close)
    cash_per_sleeve = float(initial_cash) / len(tickers)
    index = pd.DatetimeIndex(dates)
    columns = pd.Index(list(tickers), name="ticker")

    portfolio = run_portfolio(pos, price, mark, index, columns, cash_per_sleeve, fees, slippage)
    benchmark_portfolio = None
    if benchmark is None:
        benchmark_portfolio = run_portfolio(
            np.ones_like(pos), price, mark, index, columns, cash_per_sleeve, fees, slippage
        )
        benchmark = _sleeve_value(benchmark_portfolio, index, columns).sum(axis=1)
        benchmark = benchmark.rename("benchmark")
        benchmark_portfolio = on_close_of(portfolio, uncached(benchmark_portfolio))
    sleeve_value = _sleeve_value(portfolio, index, columns)
    equity = sleeve_value.sum(axis=1).rename("equity")
    if borrow_bps > 0:
        equity = with_borrow(equity, _short_notional(portfolio), initial_cash, borrow_bps)
    trades = _trades_frame(portfolio, index, columns, stop_reason)
    return Simulation(
        portfolio=uncached(portfolio),
        benchmark_portfolio=benchmark_portfolio,
        equity=equity,
        benchmark=benchmark,
        returns=equity.pct_change().rename("returns"),
        benchmark_returns=benchmark.pct_change().rename("benchmark_returns"),
        sleeve_value=sleeve_value,
        positions=pd.DataFrame(pos, index=index, columns=columns, copy=False),
        trades=trades,
    )


def simulate_weights(
    weights: np.ndarray,
    rebalanced: np.ndarray,
    exec_price: np.ndarray,
    close: np.ndarray,
    *,
    dates: pd.DatetimeIndex,
    tickers: Sequence[str],
    initial_cash: float,
    fees: float,
    slippage: float,
    borrow_bps: float = 0.0,
) -> Simulation:
    """A shared-cash portfolio holding target ``weights`` (module docstring, W1-W5) and the
    equal-weight buy-and-hold benchmark of ``simulate``.

    ``weights`` (T, K) is the held target, ``rebalanced`` (T,) the sessions that trade to it;
    ``positions`` of the result is the sign of the weights.
    """
    w = np.asarray(weights, dtype=np.float64)
    sides = np.sign(w).astype(np.int8)
    _check_inputs(sides, exec_price, close, dates, tickers, initial_cash, fees, slippage)
    if np.shape(rebalanced) != (len(dates),) or not np.isfinite(w).all():
        raise InputError("weights must be finite and rebalanced one flag per session")
    price = tradeable_price(exec_price)
    mark = valuation_price(exec_price, close)
    index = pd.DatetimeIndex(dates)
    columns = pd.Index(list(tickers), name="ticker")
    size = np.where(np.asarray(rebalanced, bool)[:, None] & np.isfinite(price), w, np.nan)
    portfolio = _run_weights(size, price, mark, index, columns, initial_cash, fees, slippage)
    with warnings.catch_warnings():
        ignore_known_vectorbt_warning()
        equity = pd.Series(np.asarray(portfolio.value(), np.float64), index=index, name="equity")
        asset_value = np.asarray(portfolio.asset_value(group_by=False), np.float64)
        cash_flow = np.asarray(portfolio.cash_flow(group_by=False), np.float64)
        orders = portfolio.orders.records
    if borrow_bps > 0:
        equity = with_borrow(equity, _short_notional(portfolio), initial_cash, borrow_bps)
    pnl = asset_value + np.cumsum(cash_flow, axis=0)
    sleeve_value = pd.DataFrame(pnl + float(initial_cash) / len(columns), index, columns)
    traded_value = np.bincount(
        np.asarray(orders["idx"], np.int64),
        np.abs(np.asarray(orders["size"]) * np.asarray(orders["price"])),
        minlength=len(index),
    )
    before = np.concatenate([[float(initial_cash)], equity.to_numpy()[:-1]])
    benchmark_portfolio = run_portfolio(
        np.ones_like(sides),
        price,
        mark,
        index,
        columns,
        float(initial_cash) / len(columns),
        fees,
        slippage,
    )
    benchmark = _sleeve_value(benchmark_portfolio, index, columns).sum(axis=1).rename("benchmark")
    trades = _trades_frame(portfolio, index, columns)
    return Simulation(
        portfolio=uncached(portfolio),
        benchmark_portfolio=on_close_of(portfolio, uncached(benchmark_portfolio)),
        equity=equity,
        benchmark=benchmark,
        returns=equity.pct_change().rename("returns"),
        benchmark_returns=benchmark.pct_change().rename("benchmark_returns"),
        sleeve_value=sleeve_value,
        positions=pd.DataFrame(sides, index=index, columns=columns),
        trades=trades,
        weights=pd.DataFrame(w, index=index, columns=columns),
        traded=pd.Series(traded_value / before, index=index, name="traded"),
    )


def uncached(portfolio: Any) -> Any:
    """``portfolio`` without the results vectorbt memoised while the engine read it (value,
    cash, assets, ...: about nine float64 arrays of (sessions, tickers) a portfolio, kept
    for its lifetime, and a reference cycle that only the garbage collector breaks)."""
    for name in [name for name in vars(portfolio) if name.startswith("__cached_")]:
        delattr(portfolio, name)
    return portfolio


def on_close_of(source: Any, portfolio: Any) -> Any:
    """``portfolio`` valued on ``source``'s close frame, which holds the same marks: the
    strategy and its benchmark share one (bars x tickers) array (``SharedClosePortfolio``)."""
    return portfolio.replace(close=source.close)


def _run_weights(
    size: np.ndarray,
    price: np.ndarray,
    mark: np.ndarray,
    index: pd.DatetimeIndex,
    columns: pd.Index,
    initial_cash: float,
    fees: float,
    slippage: float,
) -> Any:
    """One ``from_orders`` call with target-percent orders and shared cash (W2-W5)."""
    from backtest.vbt_portfolio import SharedClosePortfolio

    close_df = valuation_frame(mark, index, columns)
    with warnings.catch_warnings():
        ignore_known_vectorbt_warning()
        return SharedClosePortfolio.from_orders(
            close_df,
            size=size,
            size_type="targetpercent",
            direction="both",
            price=np.ascontiguousarray(price, dtype=np.float64),
            fees=float(fees),
            slippage=float(slippage),
            **FILL_RULES,
            init_cash=float(initial_cash),
            cash_sharing=True,
            group_by=True,
            call_seq="auto",
            max_orders=orders_placed(size),
            fillna_close=False,
            trades_type="positions",
            engine="numba",
        )


def valuation_frame(mark: np.ndarray, index: pd.DatetimeIndex, columns: pd.Index) -> pd.DataFrame:
    """The marks as vectorbt's close: before a ticker's first price its holding is flat, so
    any positive mark (1.0) values it at cash. Indexed by ``naive_index(index)``."""
    return pd.DataFrame(
        np.where(np.isnan(mark), 1.0, mark), index=naive_index(index), columns=columns, copy=False
    )


def naive_index(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """A bar index as naive UTC stamps (daily dates as they are): vectorbt turns a zoned index
    into an array of Timestamp objects at every wrap (about 0.06 s per call on a year of
    minute bars, hundreds of calls a run); a naive one it reads as datetime64 for free."""
    index = pd.DatetimeIndex(index)
    return index if index.tz is None else index.tz_convert(None)


def labelled(portfolio: Any, index: pd.DatetimeIndex) -> Any:
    """``portfolio`` indexed by ``index`` (a zoned bar index) instead of the naive UTC stamps
    it was simulated on; the same object when ``index`` is naive already (daily dates)."""
    if pd.DatetimeIndex(index).tz is None:
        return portfolio
    return portfolio.replace(wrapper=portfolio.wrapper.replace(index=pd.DatetimeIndex(index)))


def with_borrow(
    equity: pd.Series, short_notional: np.ndarray, initial_cash: float, borrow_bps: float
) -> pd.Series:
    """The curve after borrow (module docstring, last paragraph): each session's return less
    ``borrow_bps / 10_000 / 252`` times the short notional at its close over the equity."""
    values = equity.to_numpy(np.float64)
    before = np.concatenate([[float(initial_cash)], values[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        gross = values / before - 1.0
        charge = borrow_bps / 10_000.0 / BORROW_DAYS * np.asarray(short_notional) / values
    net = float(initial_cash) * np.cumprod(1.0 + np.nan_to_num(gross) - np.nan_to_num(charge))
    return pd.Series(net, index=equity.index, name=equity.name)


BORROW_DAYS = 252
"""Sessions a year over which ``execution.borrow_bps`` is spread."""


def _short_notional(portfolio: Any) -> np.ndarray:
    """Value of the short holdings at each close, a positive number (0 when none)."""
    with warnings.catch_warnings():
        ignore_known_vectorbt_warning()
        value = np.asarray(portfolio.asset_value(group_by=False), dtype=np.float64)
    return -np.minimum(value.reshape(value.shape[0], -1), 0.0).sum(axis=1)


def valuation_price(exec_price: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Mark used to value holdings at each session's close (step 5); NaN before any price.

    The close if known, else that session's execution price, else the previous mark.
    """
    close_ok = tradeable_price(close)
    mark = np.where(np.isnan(close_ok), tradeable_price(exec_price), close_ok)
    return pd.DataFrame(mark, copy=False).ffill().to_numpy(dtype=np.float64)


def tradeable_price(price: np.ndarray) -> np.ndarray:
    """Prices that can fill an order: finite and positive; anything else becomes NaN."""
    out = np.array(price, dtype=np.float64, copy=True)
    with np.errstate(invalid="ignore"):
        out[~(np.isfinite(out) & (out > 0))] = np.nan
    return out


def _check_inputs(
    positions: np.ndarray,
    exec_price: np.ndarray,
    close: np.ndarray,
    dates: pd.DatetimeIndex,
    tickers: Sequence[str],
    initial_cash: float,
    fees: float,
    slippage: float,
) -> np.ndarray:
    """Validate shapes and costs; return positions as int8."""
    shape = (len(dates), len(tickers))
    if len(tickers) == 0 or len(dates) == 0:
        raise InputError("nothing to simulate: no sessions or no tickers in the selection")
    for name, arr in (("positions", positions), ("exec_price", exec_price), ("close", close)):
        if np.shape(arr) != shape:
            raise InputError(
                f"{name} has shape {np.shape(arr)} but dates x tickers is {shape}",
                hint="align every array on the same sessions and tickers",
            )
    pos = np.asarray(positions)
    if not np.isin(pos, (-1, 0, 1)).all():
        raise InputError("positions must be -1 (short), 0 (flat) or 1 (long)")
    if not (np.isfinite(initial_cash) and initial_cash > 0):
        raise InputError(f"initial cash must be a positive number, got {initial_cash}")
    if not (np.isfinite(fees) and 0 <= fees < 1):
        raise InputError(f"fees must be a fraction in [0, 1), got {fees}", column="execution.fees")
    if not (np.isfinite(slippage) and 0 <= slippage < 1):
        raise InputError(
            f"slippage must be a fraction in [0, 1), got {slippage}", column="execution.slippage"
        )
    return pos.astype(np.int8)


def run_portfolio(
    pos: np.ndarray,
    price: np.ndarray,
    mark: np.ndarray,
    index: pd.DatetimeIndex,
    columns: pd.Index,
    cash_per_sleeve: float | np.ndarray,
    fees: float | np.ndarray,
    slippage: float | np.ndarray,
    *,
    group_by: Any = None,
    max_orders: int | None = None,
) -> Any:
    """One ``from_orders`` call over all sleeves, every setting that matters pinned explicitly.

    ``price`` comes from ``tradeable_price`` and ``mark`` from ``valuation_price``; the orders
    from ``order_arrays``. Sweeps pass many strategies' sleeves side by side: per-column arrays
    of cash, fees and slippage, ``group_by`` to sum each strategy's sleeves (cash is never
    shared), and ``max_orders`` (an upper bound on the number of orders, e.g. the number of
    target changes) so vectorbt does not allocate one record per cell; by default the number
    of orders placed.
    """
    from backtest.vbt_portfolio import SharedClosePortfolio

    price = np.ascontiguousarray(price, dtype=np.float64)
    size, size_type = order_arrays(pos, price)
    if max_orders is None:
        max_orders = orders_placed(size)
    close_df = valuation_frame(mark, index, columns)
    with warnings.catch_warnings():
        ignore_known_vectorbt_warning()
        return SharedClosePortfolio.from_orders(
            close_df,
            size=size,
            size_type=size_type,
            direction="both",
            price=price,
            fees=_scalar_or_array(fees),
            slippage=_scalar_or_array(slippage),
            **FILL_RULES,
            init_cash=_scalar_or_array(cash_per_sleeve),
            cash_sharing=False,
            call_seq="default",
            group_by=group_by,
            max_orders=max_orders,
            fillna_close=False,
            trades_type="exittrades",
            engine="numba",
        )


def orders_placed(size: np.ndarray) -> int:
    """The orders ``size`` places (its non-NaN cells, at least 1): vectorbt's record buffer,
    which otherwise holds one 56-byte record per cell for as long as the portfolio lives."""
    return max(1, int(np.count_nonzero(~np.isnan(size))))


SIZE_TYPE_AMOUNT = 0
"""``vectorbt.portfolio.enums.SizeType.Amount``: buy (size > 0) or sell (size < 0) shares."""
SIZE_TYPE_TARGET_AMOUNT = 3
"""``vectorbt.portfolio.enums.SizeType.TargetAmount``: trade to hold ``size`` shares."""


def order_arrays(pos: np.ndarray, price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``from_orders``' ``size`` (float64) and ``size_type`` (int8) for targets ``pos``.

    One order where the target differs from the side held and ``price`` is a finite positive
    number (module docstring, step 3): ``+inf``/``-inf`` shares (all-in long/short, reversal
    included) or a target of 0 shares (flat); NaN, i.e. no order, everywhere else.
    """
    return _order_arrays_nb(
        np.ascontiguousarray(pos, dtype=np.int8), np.ascontiguousarray(price, dtype=np.float64)
    )


@numba.njit(cache=True)
def _order_arrays_nb(pos: np.ndarray, price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n_sessions, n_cols = pos.shape
    size = np.full((n_sessions, n_cols), np.nan)
    size_type = np.full((n_sessions, n_cols), SIZE_TYPE_AMOUNT, dtype=np.int8)
    held = np.zeros(n_cols, dtype=np.int8)
    for t in range(n_sessions):
        for k in range(n_cols):
            target = pos[t, k]
            p = price[t, k]
            if target == held[k] or not (np.isfinite(p) and p > 0):
                continue
            held[k] = target
            if target == 0:
                size[t, k] = 0.0
                size_type[t, k] = SIZE_TYPE_TARGET_AMOUNT
            else:
                size[t, k] = np.inf if target > 0 else -np.inf
    return size, size_type


def _scalar_or_array(value: float | np.ndarray) -> float | np.ndarray:
    """A float as is, or a per-column float64 array."""
    if np.ndim(value) == 0:
        return float(value)
    return np.asarray(value, dtype=np.float64)


def ignore_known_vectorbt_warning() -> None:
    """vectorbt 1.2.0 calls DataFrame.rename(inplace=True), deprecated in pandas 3 (harmless)."""
    warnings.filterwarnings(
        "ignore", message=r".*inplace keyword in DataFrame\.rename", module=r"vectorbt\."
    )


def _sleeve_value(portfolio: Any, index: pd.DatetimeIndex, columns: pd.Index) -> pd.DataFrame:
    """Per-ticker sleeve value at each session's close (step 5)."""
    with warnings.catch_warnings():
        ignore_known_vectorbt_warning()
        value = np.asarray(ungrouped_value(portfolio), dtype=np.float64)
    # Column-major, as a DataFrame's own block is: sums across tickers add in that order.
    value = np.asfortranarray(value.reshape(len(index), len(columns)))
    return pd.DataFrame(value, index, columns, copy=False)


def ungrouped_value(portfolio: Any) -> np.ndarray:
    """``portfolio.value()`` of an ungrouped portfolio without shared cash, computed by the
    same vectorbt functions in the same order, but on plain arrays freed as soon as they are
    used: ``value()`` wraps each of its six intermediate (bars x tickers) arrays in a copied
    DataFrame and keeps them all alive until it returns (~1 GB per million bar cells)."""
    from vectorbt.base.reshape_fns import to_1d_array, to_2d_array
    from vectorbt.portfolio import dispatch
    from vectorbt.portfolio.enums import Direction

    grouper = portfolio.wrapper.grouper
    if grouper.is_grouped() or portfolio.cash_sharing or portfolio.fillna_close:
        return np.asarray(portfolio.value(), dtype=np.float64)
    engine = portfolio.engine
    shape, orders = portfolio.wrapper.shape_2d, portfolio.orders
    records, col_map = orders.values, orders.col_mapper.col_map
    asset_flow = dispatch.asset_flow(shape, records, col_map, Direction.Both, engine=engine)
    assets = dispatch.assets(asset_flow, engine=engine)
    del asset_flow
    close = to_2d_array(portfolio.close).copy()
    close[assets == 0] = 0.0
    asset_value = dispatch.asset_value(close, assets, engine=engine)
    del close, assets
    cash_flow = dispatch.cash_flow(shape, records, col_map, False, engine=engine)
    init_cash = to_1d_array(portfolio.get_init_cash(group_by=False))
    cash = dispatch.cash(cash_flow, init_cash, engine=engine)
    del cash_flow
    return dispatch.value(cash, asset_value, engine=engine)


def _trades_frame(
    portfolio: Any,
    index: pd.DatetimeIndex,
    columns: pd.Index,
    stop_reason: np.ndarray | None = None,
) -> pd.DataFrame:
    """vectorbt exit-trade records as a plain frame with the ``TRADE_COLUMNS`` names;
    ``exit_reason`` is "signal" for a closed trade unless ``stop_reason`` (T, K) names a stop
    at its exit session, "" for an open one."""
    with warnings.catch_warnings():
        ignore_known_vectorbt_warning()
        rec = portfolio.trades.records
    is_open = np.asarray(rec["status"]) == 0
    exit_idx = np.asarray(rec["exit_idx"], dtype=np.int64)
    cols = np.asarray(rec["col"], dtype=np.int64)
    codes = (
        np.zeros(len(exit_idx), dtype=np.int64)
        if stop_reason is None
        else np.asarray(stop_reason, dtype=np.int64)[exit_idx, cols]
    )
    reasons = np.asarray(EXIT_REASONS, dtype=object)[codes]
    reasons[is_open] = ""
    exit_time = pd.DatetimeIndex(index[exit_idx])
    frame = pd.DataFrame(
        {
            "ticker": np.asarray(columns)[np.asarray(rec["col"], dtype=np.int64)].astype(object),
            "side": np.where(np.asarray(rec["direction"]) == 0, "long", "short").astype(object),
            "entry_time": index[np.asarray(rec["entry_idx"], dtype=np.int64)],
            "entry_price": np.asarray(rec["entry_price"], dtype=np.float64),
            "exit_time": exit_time.where(~is_open, pd.NaT),
            "exit_price": np.where(is_open, np.nan, np.asarray(rec["exit_price"], np.float64)),
            "size": np.asarray(rec["size"], dtype=np.float64),
            "fees": np.asarray(rec["entry_fees"] + rec["exit_fees"], dtype=np.float64),
            "pnl": np.asarray(rec["pnl"], dtype=np.float64),
            "return": np.asarray(rec["return"], dtype=np.float64),
            "status": np.where(is_open, "open", "closed").astype(object),
            "exit_reason": reasons,
        },
        columns=TRADE_COLUMNS,
    )
    return frame.sort_values(["entry_time", "ticker"], kind="stable").reset_index(drop=True)
