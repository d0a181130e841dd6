"""Tickers found in articles, per-ticker article scores, and ``backtest signal --article``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_helpers import run_cli

from backtest.articles import score_article
from backtest.data.articles import read_article, sentences, stated_time
from backtest.data.tickers import find_tickers
from backtest.scoring import score_headlines

ARTICLES = Path(__file__).resolve().parent / "data" / "articles"
DATED = ARTICLES / "tech-and-banks.md"
UNDATED = ARTICLES / "undated.txt"


def tickers_in(text: str, **kwargs) -> list[tuple[str, str]]:
    return [(m.ticker, m.how) for m in find_tickers(text, **kwargs)]


def test_cashtags_and_exchange_prefixes_are_tickers_even_without_prices():
    found = tickers_in("Buy $ZZZQ now; Alibaba (NYSE: BABA) and NASDAQ:QQQX fell.")
    assert found == [("ZZZQ", "cashtag"), ("BABA", "exchange"), ("QQQX", "exchange")]


def test_a_bare_parenthesised_symbol_counts_when_it_has_prices_or_is_in_the_symbol_table():
    text = "Shares rose (AAPL); others fell (PLTR); and the rest (FOOQ) were flat."
    assert tickers_in(text) == [("AAPL", "parenthesis"), ("PLTR", "parenthesis")]
    assert ("FOOQ", "parenthesis") in tickers_in(text, known={"FOOQ"})


def test_a_company_name_then_its_symbol_counts_without_prices_or_table():
    text = "Foo (FOOQ) was flat. In (AI) news, the Bank of England (BOE) held rates."
    assert tickers_in(text) == [("FOOQ", "parenthesis")]


def test_parenthesised_abbreviations_are_not_tickers():
    text = "The CEO (CEO) said AI (AI) demand in the USA (USA) lifted the IPO (IPO) market."
    assert tickers_in(text) == []


def test_an_abbreviation_spelled_out_before_it_is_not_a_ticker_even_with_prices():
    text = "The initial public offering (IPO) priced late."
    assert tickers_in(text, known={"IPO"}) == []


def test_a_symbol_named_explicitly_elsewhere_counts_in_parentheses_too():
    found = tickers_in("Alibaba (BABA) fell. Later $BABA bounced.")
    assert found == [("BABA", "parenthesis"), ("BABA", "cashtag")]


def test_company_names_come_from_the_symbol_table_with_names():
    assert tickers_in("Microsoft said demand was strong.") == []
    assert tickers_in("Microsoft said demand was strong.", names=True) == [("MSFT", "name")]


def test_the_article_date_line_is_read_and_sentences_keep_abbreviations_whole():
    stated = stated_time(DATED.read_text())
    assert stated is not None and stated.line == 3 and stated.date_only
    assert str(stated.when.date()) == "2015-06-10"
    parts = [s.text for s in sentences("Mr. Smith of Acme Inc. left. Then $AAPL rose.")]
    assert parts == ["Mr. Smith of Acme Inc. left.", "Then $AAPL rose."]


def test_article_score_is_the_average_of_the_sentences_naming_the_ticker():
    article = read_article(DATED)
    found = {t.ticker: t for t in score_article(article, known=frozenset({"AAPL", "JPM"}))}
    assert list(found) == ["AAPL", "MSFT", "JPM", "PLTR"]
    jpm = [
        "JPMorgan (NYSE: JPM) slumped after regulators opened a probe into its trading desk, "
        "a sharp loss for the bank.",
        "JPMorgan said the probe could take months.",  # the name written before (NYSE: JPM)
    ]
    assert found["JPM"].sentences == 2
    assert found["JPM"].score == pytest.approx(float(score_headlines(jpm).mean()), abs=1e-4)
    assert found["JPM"].score < 0 < found["AAPL"].score
    assert found["AAPL"].has_prices and not found["PLTR"].has_prices


def test_signal_article_reads_priced_tickers_exactly_as_signal_asof_and_flags_the_rest():
    result = run_cli("signal", "--article", str(DATED), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["asof"] == "2015-06-10" and "line 3" in out["asof_from"]
    by = {t["ticker"]: t for t in out["tickers"]}
    assert list(by) == ["AAPL", "MSFT", "JPM", "PLTR"]
    assert by["PLTR"]["reading"] is None and not by["PLTR"]["has_prices"]
    direct = run_cli("signal", "AAPL", "MSFT", "JPM", "--asof", "2015-06-10", "--json")
    assert [by[t]["reading"] for t in ("AAPL", "MSFT", "JPM")] == json.loads(direct.stdout)


def test_signal_article_text_output_explains_and_says_no_prices():
    result = run_cli("signal", "--article", str(DATED), "--explain", "--no-emoji")
    assert result.returncode == 0, result.stderr
    assert "PLTR: no prices in the data, no reading." in result.stdout
    assert "Top sentences:" in result.stdout
    assert "CEO" not in result.stdout.split("Tickers named:")[1].splitlines()[0]


def test_an_undated_article_is_read_as_of_the_last_session(tmp_path):
    result = run_cli("signal", "--article", str(UNDATED), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["stated_date"] is None and "last session" in out["asof_from"]
    assert out["tickers"][0]["ticker"] == "KO" and out["tickers"][0]["reading"]["asof"]


def test_a_missing_article_is_one_line_exit_2(tmp_path):
    result = run_cli("signal", "--article", str(tmp_path / "nope.md"))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no such article file" in result.stderr


def test_import_articles_writes_one_row_per_article_and_ticker_that_backtest_run_reads(tmp_path):
    import os
    import shutil

    import pandas as pd

    folder = tmp_path / "articles"
    folder.mkdir()
    shutil.copy(DATED, folder)
    undated = shutil.copy(UNDATED, folder)
    os.utime(undated, (1433952000, 1433952000))  # 2015-06-10T16:00:00Z
    out = tmp_path / "headlines.parquet"
    result = run_cli("data", "import-articles", str(folder), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "tech-and-banks.md: 2015-06-10 (stated on line 3)" in result.stdout
    assert "undated.txt: 2015-06-10T16:00:00+00:00 (file modification time)" in result.stdout
    rows = pd.read_parquet(out)
    assert list(zip(rows["ticker"], rows["headline"], strict=True))[-1] == (
        "KO",
        "Coca-Cola (NYSE: KO) wins a record contract",
    )
    assert rows["ticker"].tolist() == ["AAPL", "MSFT", "JPM", "PLTR", "KO"]
    jpm = rows.set_index("ticker").loc["JPM", "article_score"]
    assert jpm < 0
    reading = run_cli("signal", "KO", "--headlines", str(out), "--asof", "2015-06-11", "--json")
    assert reading.returncode == 0, reading.stderr
    assert json.loads(reading.stdout)[0]["headlines"] == 1


def test_import_articles_from_an_empty_folder_is_one_line_exit_2(tmp_path):
    result = run_cli("data", "import-articles", str(tmp_path), "--out", str(tmp_path / "h.parquet"))
    assert result.returncode == 2
    assert "no articles in the folder" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "h.parquet").exists()


@pytest.mark.parametrize(
    ("line", "day"),
    [
        ("Published 2015-06-01", "2015-06-01"),
        ("Published on June 1, 2015", "2015-06-01"),
        ("**Date:** June 2, 2015", "2015-06-02"),
        ("Updated: 2015-06-03", "2015-06-03"),
    ],
)
def test_a_date_line_needs_no_colon_after_its_key(line: str, day: str) -> None:
    stated = stated_time(f"# A title\n{line}\n\nApple (AAPL) rose.")
    assert stated is not None and stated.when.date().isoformat() == day and stated.line == 2


def test_a_key_word_without_a_date_states_nothing() -> None:
    assert stated_time("# A title\nPublished by the desk\n\nApple (AAPL) rose.") is None
