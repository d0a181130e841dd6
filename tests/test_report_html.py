"""report.html from a run folder: escaping, sections, figures equal to stats.json, determinism."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from report_fixtures import CR_HEADLINE, ENTITY_HEADLINE, HOSTILE_HEADLINE, build_run_folder

from backtest.errors import InputError
from backtest.lexicon_learn import LearnedLexicon, LearnedTerm
from backtest.report.html import render_report, report_size_breakdown

SECTIONS = [
    "summary",
    "charts",
    "event-study",
    "information-coefficient",
    "trades",
    "per-ticker",
    "reproducibility",
]
CHARTS = [
    "fig-equity",
    "fig-drawdown",
    "fig-monthly",
    "fig-rolling-sharpe",
    "fig-contribution",
    "fig-labels",
    "fig-event-study",
    "fig-ic",
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    run_dir = build_run_folder(tmp_path_factory.mktemp("run"))
    path = render_report(run_dir)
    return run_dir, path.read_text(encoding="utf-8")


class _TableRows(HTMLParser):
    """Collects each <tr>'s attributes and cell texts of one table (by id)."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id = table_id
        self.inside = False
        self.rows: list[tuple[dict[str, str | None], list[str], list[dict[str, str | None]]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append((a, [], []))
        elif self.inside and tag in ("td", "th") and self.rows:
            self._cell = []
            self.rows[-1][2].append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.inside = False
        elif tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1][1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def table_rows(html: str, table_id: str) -> list:
    parser = _TableRows(table_id)
    parser.feed(html)
    return parser.rows


def test_hostile_headline_shows_as_escaped_text(rendered: tuple[Path, str]) -> None:
    _, html = rendered
    assert "<script>alert" not in html
    assert "<img src=x" not in html and "<img" not in html
    escaped = HOSTILE_HEADLINE.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert escaped in html


def test_every_script_element_is_the_reports_own(rendered: tuple[Path, str]) -> None:
    _, html = rendered
    openings = re.findall(r"<script\b[^>]*>", html, flags=re.IGNORECASE)
    allowed = re.compile(
        r'<script>|<script type="application/gzip;base64" id="plotly-js-gz">|'
        r'<script type="application/json" '
        r'(data-figure="fig-[a-z-]+"|id="plot-config")>'
    )
    assert openings and all(allowed.fullmatch(o) for o in openings), openings
    assert html.lower().count("</script") == len(openings)


def test_entities_and_carriage_returns_in_headlines_stay_literal(
    rendered: tuple[Path, str],
) -> None:
    _, html = rendered
    assert ENTITY_HEADLINE.replace("&", "&amp;") in html
    assert "\r" not in html
    assert CR_HEADLINE.replace("\r", " ") in html


def test_every_section_and_chart_is_present(rendered: tuple[Path, str]) -> None:
    _, html = rendered
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    for chart in CHARTS:
        assert f'id="{chart}"' in html
        assert f'data-figure="{chart}"' in html
    assert html.count('id="plotly-js-gz"') == 1


def test_plotly_js_is_embedded_once_and_inflates_to_the_packaged_bundle(
    rendered: tuple[Path, str],
) -> None:
    from plotly.offline import get_plotlyjs

    _, html = rendered
    blobs = re.findall(
        r'<script type="application/gzip;base64" id="plotly-js-gz">(.*?)</script>', html
    )
    assert len(blobs) == 1
    assert gzip.decompress(base64.b64decode(blobs[0])).decode("utf-8") == get_plotlyjs()
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=", html), "loads a resource"


def _expected(value: object, key: str) -> str:
    if value is None:
        return "\u2013"
    if key.startswith("max_drawdown_"):
        return str(value)
    ratios = {"sharpe", "sortino", "calmar", "profit_factor"}
    if key in ratios:
        return f"{value:.2f}"
    if key == "turnover":
        return f"{value:,.2f}\u00d7"
    if key == "trades":
        return f"{value:,}"
    if key == "avg_holding_sessions":
        return f"{value:.1f}"
    return f"{value * 100:,.2f}%"


def test_headline_table_equals_stats_json(rendered: tuple[Path, str]) -> None:
    run_dir, html = rendered
    stats = json.loads((run_dir / "stats.json").read_text())["stats"]
    rows = {attrs["data-key"]: cells for attrs, cells, _ in table_rows(html, "headline-table")[1:]}
    assert set(rows) == set(stats["strategy"])
    for key, cells in rows.items():
        assert cells[1] == _expected(stats["strategy"][key], key), key
        assert cells[2] == _expected(stats["benchmark"][key], key), key


def test_negative_and_positive_figures_are_coloured(rendered: tuple[Path, str]) -> None:
    run_dir, html = rendered
    stats = json.loads((run_dir / "stats.json").read_text())["stats"]
    rows = {
        a["data-key"]: cell_attrs for a, _, cell_attrs in table_rows(html, "headline-table")[1:]
    }
    for side, column in (("strategy", 1), ("benchmark", 2)):
        value = stats[side]["max_drawdown"]
        assert value < 0 and "neg" in rows["max_drawdown"][column]["class"]
        total = stats[side]["total_return"]
        assert ("pos" if total > 0 else "neg") in rows["total_return"][column]["class"]


def test_rendering_twice_gives_the_same_bytes(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    first = render_report(run_dir).read_bytes()
    second = render_report(run_dir).read_bytes()
    assert first == second


def test_default_trades_view_is_the_best_and_worst_fifty(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path, n_sessions=320, flip_probability=0.6)
    trades = pd.read_csv(run_dir / "trades.csv")
    assert len(trades) > 150
    html = render_report(run_dir).read_text(encoding="utf-8")
    rows = table_rows(html, "trades-table")[1:]
    assert len(rows) == len(trades)
    pnl_col = 6
    shown = sorted(
        (float(t[pnl_col].replace(",", "")) for a, t, _ in rows if a.get("data-top") == "1"),
        reverse=True,
    )
    ranked = sorted(trades["pnl"], reverse=True)
    assert shown == pytest.approx(ranked[:50] + ranked[-50:], abs=0.005)
    hidden = [a for a, _, _ in rows if "hidden" in a]
    assert len(hidden) == len(trades) - 100


def test_per_ticker_table_lists_every_ticker(rendered: tuple[Path, str]) -> None:
    run_dir, html = rendered
    stats = json.loads((run_dir / "stats.json").read_text())
    rows = table_rows(html, "per-ticker-table")[1:]
    assert sorted(cells[0] for _, cells, _ in rows) == sorted(stats["per_ticker"])
    for _, cells, _ in rows:
        assert cells[2] == f"{stats['per_ticker'][cells[0]]['pnl']:,.2f}"


def test_reproducibility_block_shows_config_fingerprints_and_versions(
    rendered: tuple[Path, str],
) -> None:
    run_dir, html = rendered
    stats = json.loads((run_dir / "stats.json").read_text())
    for info in stats["data"].values():
        assert info["sha256"] in html
    for name, version in stats["versions"].items():
        assert f'<th>{name}</th><td class="mono">{version}</td>' in html
    assert "half_life = 2.0" in html
    assert stats["command"] in html


def test_missing_run_folder_file_names_it(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    (run_dir / "trades.csv").unlink()
    with pytest.raises(InputError, match="trades.csv"):
        render_report(run_dir)


def test_missing_column_is_named(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    equity = pd.read_csv(run_dir / "equity.csv").drop(columns=["benchmark"])
    equity.to_csv(run_dir / "equity.csv", index=False)
    with pytest.raises(InputError, match="benchmark"):
        render_report(run_dir)


def test_size_breakdown_adds_up(rendered: tuple[Path, str], tmp_path: Path) -> None:
    run_dir, _ = rendered
    sizes = report_size_breakdown(run_dir / "report.html")
    parts = sizes["plotly_js"] + sizes["figures_json"] + sizes["trades_table"] + sizes["rest"]
    assert parts == sizes["total"] == (run_dir / "report.html").stat().st_size
    assert min(sizes.values()) > 0


def test_run_without_trades_or_composite_says_so(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    trades = pd.read_csv(run_dir / "trades.csv")
    trades.iloc[0:0].to_csv(run_dir / "trades.csv", index=False)
    signals = pd.read_csv(run_dir / "signals.csv")
    signals["composite"] = float("nan")
    signals.to_csv(run_dir / "signals.csv", index=False)
    html = render_report(run_dir).read_text(encoding="utf-8")
    assert 'id="no-trades"' in html and 'id="trades-table"' not in html
    assert 'id="no-ic"' in html and 'data-figure="fig-ic"' not in html


def test_every_figure_is_a_valid_plotly_figure(rendered: tuple[Path, str]) -> None:
    import plotly.graph_objects as go

    _, html = rendered
    specs = re.findall(
        r'<script type="application/json" data-figure="([a-z-]+)">(.*?)</script>', html
    )
    assert sorted(name for name, _ in specs) == sorted(CHARTS)
    for name, text in specs:
        spec = json.loads(text)
        figure = go.Figure(spec)  # raises on an unknown property or a bad value
        assert figure.data, name


# Walk-forward and learned-lexicon sections ----------------------------------------------------

HOSTILE_VALUE = '<script>alert("wf")</script>'


def _edit_stats(run_dir: Path, **blocks: object) -> dict:
    stats = json.loads((run_dir / "stats.json").read_text(encoding="utf-8"))
    stats.update(blocks)
    (run_dir / "stats.json").write_text(json.dumps(stats, indent=2), encoding="utf-8")
    return stats


def _window_records(run_dir: Path) -> list[dict]:
    dates = pd.read_csv(run_dir / "equity.csv")["date"].tolist()
    return [
        {
            "window": k + 1,
            "is_start": dates[100 * k],
            "is_end": dates[100 * k + 59],
            "oos_start": dates[100 * k + 60],
            "oos_end": dates[100 * k + 99],
            "is_sessions": 60,
            "oos_sessions": 40,
            "set": k,
            "signal.half_life": [1.0, 2.0][k % 2],
            "execution.on_neutral": HOSTILE_VALUE,
            "is_sharpe": 1.25 + k,
            "oos_sharpe": -0.5 + k,
            "oos_return": 0.01 * (k - 1),
        }
        for k in range(2)
    ]


def _walkforward_block(run_dir: Path, relearn: dict | None = None) -> dict:
    records = _window_records(run_dir)
    return {
        "train_sessions": 60,
        "test_sessions": 40,
        "objective": "sharpe",
        "grid": {"signal.half_life": [1.0, 2.0], "execution.on_neutral": [HOSTILE_VALUE]},
        "n_sets": 2,
        "sets_simulated": 2,
        "skipped_sets": 0,
        "relearn_lexicon": relearn,
        "windows": records,
    }


def test_plain_run_shows_no_walkforward_or_learned_lexicon(rendered: tuple[Path, str]) -> None:
    _, html = rendered
    for marker in ('id="walkforward"', 'id="learned-lexicon"', "lexicon-in-sample-warning"):
        assert marker not in html
    assert 'href="#walkforward"' not in html


def test_walkforward_section_lists_the_windows_and_escapes_parameters(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    block = _walkforward_block(run_dir)
    _edit_stats(run_dir, walkforward=block)
    html = render_report(run_dir).read_text(encoding="utf-8")
    assert '<section id="walkforward">' in html and 'href="#walkforward"' in html
    assert HOSTILE_VALUE not in html
    assert HOSTILE_VALUE.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;") in html
    settings = {cells[0]: cells[1] for _, cells, _ in table_rows(html, "walkforward-settings")}
    assert settings["In-sample window"] == "60 sessions"
    assert settings["Grid signal.half_life"] == "1.0, 2.0"
    rows = table_rows(html, "walkforward-table")
    header, body = rows[0][1], [cells for _, cells, _ in rows[1:]]
    assert header[4:6] == ["signal.half_life", "execution.on_neutral"]
    assert len(body) == len(block["windows"])
    for cells, record in zip(body, block["windows"], strict=True):
        assert cells[1] == f"{record['is_start']} to {record['is_end']}"
        assert cells[2] == f"{record['oos_start']} to {record['oos_end']}"
        assert cells[4] == str(record["signal.half_life"])
        assert cells[-3:] == [
            f"{record['is_sharpe']:.2f}",
            f"{record['oos_sharpe']:.2f}",
            f"{record['oos_return'] * 100:.2f}%",
        ]


def test_walkforward_csv_alone_still_shows_the_windows(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    records = _window_records(run_dir)
    pd.DataFrame(records).to_csv(run_dir / "walkforward.csv", index=False)
    html = render_report(run_dir).read_text(encoding="utf-8")
    body = table_rows(html, "walkforward-table")[1:]
    assert [cells[0] for _, cells, _ in body] == ["1", "2"]
    assert 'id="walkforward-settings"' not in html


def _learned_csv(path: Path, start: str, end: str, terms: dict[str, float]) -> Path:
    learned = LearnedLexicon(
        terms=tuple(LearnedTerm(t, w, 40, 0.6) for t, w in terms.items()),
        train_start=start,
        train_end=end,
        parameters={"min_count": 30},
        counts={"labelled": 100},
        sources=(("prices.csv", "n/a"),),
        created="2024-01-01",
    )
    return learned.to_csv(path)


LEARNED_TERMS = {"beats views": 2.5, "device": 3.0, "upgrade": 0.75, "matter": -3.0, "probe": -1.2}


def _with_run_lexicon(run_dir: Path, start: str, end: str) -> bytes:
    content = _learned_csv(run_dir / "lexicon.csv", start, end, LEARNED_TERMS).read_bytes()
    stats = json.loads((run_dir / "stats.json").read_text(encoding="utf-8"))
    stats["data"]["lexicon"] = {
        "path": "/gone/<b>learned</b>.csv",
        "sha256": hashlib.sha256(content).hexdigest(),
        "rows": len(LEARNED_TERMS),
        "copy": "lexicon.csv",
        "learned": True,
        "start": start,
        "end": end,
    }
    _edit_stats(run_dir, data=stats["data"])
    return content


def test_learned_lexicon_overlapping_the_period_shows_words_and_an_in_sample_warning(
    tmp_path: Path,
) -> None:
    run_dir = build_run_folder(tmp_path)
    period = json.loads((run_dir / "stats.json").read_text(encoding="utf-8"))["period"]
    _with_run_lexicon(run_dir, "2014-06-01", period["start"])
    html = render_report(run_dir).read_text(encoding="utf-8")
    assert 'id="lexicon-in-sample-warning"' in html
    assert "the lexicon was learned on these dates" in html
    assert f"on {period['start']} to {period['start']}" in html
    assert "<b>learned</b>" not in html and "&lt;b&gt;learned&lt;/b&gt;" in html
    rows = [cells for _, cells, _ in table_rows(html, "learned-terms")[1:]]
    positive = sorted(((t, w) for t, w in LEARNED_TERMS.items() if w > 0), key=lambda x: -x[1])
    negative = sorted(((t, w) for t, w in LEARNED_TERMS.items() if w < 0), key=lambda x: x[1])
    assert [(r[0], r[1]) for r in rows] == [(t, f"{w:.3f}") for t, w in positive]
    assert [(r[2], r[3]) for r in rows if r[2]] == [(t, f"{w:.3f}") for t, w in negative]


def test_learned_lexicon_before_the_period_shows_no_warning(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    _with_run_lexicon(run_dir, "2014-01-01", "2014-12-31")
    html = render_report(run_dir).read_text(encoding="utf-8")
    assert '<section id="learned-lexicon">' in html
    assert "after the training window (out-of-sample)" in html
    assert "lexicon-in-sample-warning" not in html


def test_hand_written_lexicon_copy_is_not_shown_as_learned(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    _with_run_lexicon(run_dir, "2014-01-01", "2014-12-31")
    (run_dir / "lexicon.csv").write_text("term,weight,kind\nbeats,2,word\n", encoding="utf-8")
    html = render_report(run_dir).read_text(encoding="utf-8")
    assert 'id="learned-lexicon"' not in html


def test_missing_lexicon_copy_is_named(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    _with_run_lexicon(run_dir, "2014-01-01", "2014-12-31")
    (run_dir / "lexicon.csv").unlink()
    with pytest.raises(InputError, match="lexicon.csv"):
        render_report(run_dir)


def test_relearned_window_lexicons_show_per_window_words(tmp_path: Path) -> None:
    run_dir = build_run_folder(tmp_path)
    records = _window_records(run_dir)
    entries = []
    for k, record in enumerate(records, start=1):
        name = f"lexicons/window-{k:02d}.csv"
        # window 2's lexicon is (wrongly) trained into its own out-of-sample dates
        end = record["is_end"] if k == 1 else record["oos_start"]
        content = _learned_csv(run_dir / name, record["is_start"], end, {f"word{k}": 1.5})
        digest = hashlib.sha256(content.read_bytes()).hexdigest()
        entries.append({"window": k, "file": name, "sha256": digest})
    block = _walkforward_block(run_dir, {"min_count": 5, "top_k": 20, "lexicons": entries})
    _edit_stats(run_dir, walkforward=block)
    html = render_report(run_dir).read_text(encoding="utf-8")
    assert '<section id="learned-lexicon">' in html
    for k in (1, 2):
        rows = table_rows(html, f"window-terms-{k}")[1:]
        assert [cells[:2] for _, cells, _ in rows] == [[f"word{k}", "1.500"]]
    assert html.count("(training window overlaps the traded dates)") == 1
    assert 'id="window-lexicon-warning"' in html
    assert "lexicon-in-sample-warning" not in html


def test_page_keeps_the_best_and_worst_trades_when_there_are_too_many(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backtest.report import html as report_html

    run_dir = build_run_folder(tmp_path, n_sessions=320, flip_probability=0.6)
    trades = pd.read_csv(run_dir / "trades.csv")
    monkeypatch.setattr(report_html, "MAX_TRADES_IN_PAGE", 120)
    page = render_report(run_dir).read_text(encoding="utf-8")
    rows = table_rows(page, "trades-table")[1:]
    assert len(rows) == 120 < len(trades)
    pnl = sorted((float(t[6].replace(",", "")) for _, t, _ in rows), reverse=True)
    ranked = sorted(trades["pnl"], reverse=True)
    assert pnl == pytest.approx(ranked[:60] + ranked[-60:], abs=0.005)
    assert f"of {len(trades):,}; trades.csv lists every trade" in page
