"""The SVG chart builder of the staff dashboard (stockline.web.charts) on its own: the scale,
the tick labels, bar heights, losses below the zero line, an empty period, escaping."""

from __future__ import annotations

import re
from decimal import Decimal

from stockline.web.charts import BOTTOM, HEIGHT, TOP, Point, bar_chart, nice_scale, short_amount


def _points(*pairs) -> list[Point]:
    return [Point(str(i), f"day {i}", Decimal(r), Decimal(p)) for i, (r, p) in enumerate(pairs)]


def _bars(svg: str) -> list[dict[str, str]]:
    return [dict(re.findall(r'(\w+)="([^"]*)"', attrs)) for attrs in re.findall(r"<rect ([^>]*)>", svg)]


PLOT = Decimal(HEIGHT - TOP - BOTTOM)


def test_nice_scale_rounds_out_to_whole_steps_and_keeps_zero():
    assert nice_scale([Decimal(0), Decimal(13), Decimal(97)]) == (s := nice_scale([Decimal(97)]))
    assert (s.bottom, s.top, s.step) == (0, 100, 25)
    loss = nice_scale([Decimal(-5), Decimal(30)])
    assert (loss.bottom, loss.top, loss.step) == (-10, 30, 10) and loss.ticks() == [-10, 0, 10, 20, 30]
    small = nice_scale([Decimal("0.03")])
    assert (small.top, small.step) == (Decimal("0.03"), Decimal("0.01"))
    big = nice_scale([Decimal("15341.07")])
    assert (big.top, big.step) == (20000, 5000)
    assert nice_scale([]).ticks() == [0, 25, 50, 75, 100]


def test_short_amounts_for_tick_labels():
    assert [short_amount(Decimal(v)) for v in ("0", "250", "2500", "20000", "1200000", "-5000", "0.25")] == [
        "0", "250", "2.5k", "20k", "1.2M", "-5k", "0.25"]


def test_bar_heights_are_proportional_to_the_values():
    svg = bar_chart(_points(("100", "50"), ("25", "0")), chart_id="c", title="t")
    bars = _bars(svg)
    assert [b["class"] for b in bars] == ["bar-revenue", "bar-profit", "bar-revenue", "bar-profit"]
    heights = [Decimal(b["height"]) for b in bars]
    assert heights == [PLOT, PLOT / 2, PLOT / 4, 0]
    assert Decimal(bars[0]["y"]) == TOP  # the tallest bar reaches the top tick
    assert "<title>day 0: revenue 100.00</title>" in svg and "<title>day 1: profit 0.00</title>" in svg
    assert svg.count('class="period"') == 2 and "No sales" not in svg


def test_a_loss_hangs_below_the_zero_line_in_its_own_colour():
    svg = bar_chart(_points(("30", "-10"), ("20", "5")), chart_id="c", title="t")
    bars = _bars(svg)
    zero = re.search(r'<line class="zero"[^>]* y1="([\d.]+)"', svg).group(1)
    loss = bars[1]
    assert loss["class"] == "bar-loss" and loss["y"] == zero
    assert Decimal(loss["height"]) == (PLOT / 4).quantize(Decimal("0.1"))  # 10 of the 40 the scale spans
    assert Decimal(bars[0]["y"]) + Decimal(bars[0]["height"]) == Decimal(zero)  # revenue stands on zero
    assert "<title>day 0: loss -10.00</title>" in svg and "1 with a loss" in svg


def test_no_sales_draws_an_empty_chart_without_dividing_by_zero():
    svg = bar_chart(_points(("0", "0"), ("0", "0")), chart_id="c", title="t")
    assert "No sales in this period" in svg
    assert all(b["height"] == "0.0" for b in _bars(svg))
    assert "No sales in this period" in bar_chart([], chart_id="c", title="t")


def test_chart_text_is_escaped_and_the_svg_is_labelled():
    svg = bar_chart([Point("<b>", "<script>x</script>", Decimal(1), Decimal(1))], chart_id="c", title='A "t" & <u>')
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg
    assert 'role="img" aria-labelledby="c-title c-desc"' in svg
    assert '<title id="c-title">A &#34;t&#34; &amp; &lt;u&gt;</title>' in svg
