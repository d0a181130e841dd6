"""The trades table's rows, written out in Python, are the markup of the Jinja2 loop they
replaced, byte for byte, with every text escaped."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_fixtures import CR_HEADLINE, ENTITY_HEADLINE, HOSTILE_HEADLINE

from backtest.report import html

LOOP = (
    "    {% for t in trades %}\n"
    '      <tr{% if t.shown %} data-top="1"{% else %} hidden{% endif %}><td>{{ t.ticker }}</td>'
    '<td class="side-{{ t.side }}">{{ t.side }}</td><td>{{ t.entry_time }}</td>'
    '<td>{{ t.exit_time }}{% if t.status == "open" %} (open){% endif %}</td>'
    '<td class="num">{{ t.entry_price.text }}</td><td class="num">{{ t.exit_price.text }}</td>'
    '<td class="num {{ t.pnl.css }}">{{ t.pnl.text }}</td>'
    '<td class="num {{ t.ret.css }}">{{ t.ret.text }}</td>'
    '<td class="num">{{ t.n_headlines }}</td><td class="num">{{ t.novelty.text }}</td>'
    '<td class="num">{{ t.relevance.text }}</td><td>{% if t.headlines %}<ul class="hl">'
    "{% for h in t.headlines %}<li>{{ h|one_line }}</li>{% endfor %}</ul>{% else %}"
    '<span class="na">&ndash;</span>{% endif %}</td></tr>\n'
    "    {% endfor %}\n"
)
"""report.html.j2's trades loop before trades_tbody replaced it."""

TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [HOSTILE_HEADLINE, ENTITY_HEADLINE, CR_HEADLINE, "\"x\" & 'y'", "a\r\n  b", " || "]
    ),
)


def loop_markup(rows: list[dict]) -> str:
    return html.environment().from_string(LOOP).render(trades=rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            TEXT,
            st.sampled_from(["long", "short", '<b onclick="x">']),
            st.sampled_from(["open", "closed"]),
            st.floats(allow_nan=True, allow_infinity=False, width=32),
            st.floats(allow_nan=True, allow_infinity=False, width=32),
            st.lists(TEXT, max_size=5),
        ),
        max_size=8,
    )
)
def test_trade_rows_are_the_markup_of_the_template_loop(rows: list[tuple]) -> None:
    trades = pd.DataFrame(
        {
            "ticker": [r[0] for r in rows],
            "side": [r[1] for r in rows],
            "entry_time": ["2015-01-02"] * len(rows),
            "entry_price": [r[3] for r in rows],
            "exit_time": ["" if r[2] == "open" else "2015-02-03" for r in rows],
            "exit_price": [r[4] for r in rows],
            "pnl": [r[3] for r in rows],
            "return": [r[4] for r in rows],
            "status": [r[2] for r in rows],
            "n_headlines": [len(r[5]) for r in rows],
            "headlines": [html.HEADLINE_SEPARATOR.join(r[5]) for r in rows],
            "novelty": [r[4] for r in rows],
            "relevance": [r[3] for r in rows],
        }
    )
    shown = html.trade_rows(trades, top=2)
    assert str(html.trades_tbody(shown)) == loop_markup(shown)


def test_hostile_headlines_are_escaped_in_the_trades_rows() -> None:
    row = {
        "shown": True,
        "ticker": "AAA",
        "side": "long",
        "entry_time": "2015-01-02",
        "exit_time": "2015-01-09",
        "entry_price": html.Cell("1.00"),
        "exit_price": html.Cell("2.00"),
        "pnl": html.Cell("1.00", "pos"),
        "ret": html.Cell("100.00%", "pos"),
        "status": "closed",
        "n_headlines": 3,
        "novelty": html.Cell("0.50"),
        "relevance": html.Cell("1.00"),
        "headlines": [HOSTILE_HEADLINE, ENTITY_HEADLINE, CR_HEADLINE],
    }
    markup = str(html.trades_tbody([row]))
    assert "<script>" not in markup and "<img" not in markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "AT&amp;amp;T" in markup
    assert "Shares jump after record quarter" in markup
    assert markup == loop_markup([row])
