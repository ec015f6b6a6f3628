"""Inline SVG bar charts for the staff dashboard, built on the server (no chart library, no
JavaScript): one group of two bars (revenue, profit) per period, a y axis with round-number
ticks, the period under each group. A loss (negative profit) hangs below the zero line in
its own colour (class `bar-loss`, styled in app.css).

Screen readers get the svg's <title>/<desc> (role="img"); each bar carries its own <title>
(a tooltip with the exact amount); the page shows the same figures as a table too. Amounts
stay Decimal: only the geometry is rounded (to 0.1 px). Every text is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from markupsafe import Markup, escape

from stockline.web.render import money

WIDTH, HEIGHT = 540, 240
LEFT, RIGHT, TOP, BOTTOM = 46, 6, 12, 28  # margins: tick labels left, period labels below
TICKS = 4  # about this many steps between the lowest and the highest tick
NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
PX = Decimal("0.1")


@dataclass(frozen=True)
class Point:
    """One period: `label` under its bars ("25 Nov"), `long_label` in titles ("25 Nov 2026")."""
    label: str
    long_label: str
    revenue: Decimal
    profit: Decimal


@dataclass(frozen=True)
class Scale:
    """The value range the plot spans, a whole number of `step`s from `bottom` to `top`."""
    bottom: Decimal
    top: Decimal
    step: Decimal

    def ticks(self) -> list[Decimal]:
        count = int((self.top - self.bottom) / self.step)
        return [self.bottom + self.step * i for i in range(count + 1)]


def nice_scale(values: Sequence[Decimal]) -> Scale:
    """The smallest range of round steps (1, 2, 2.5 or 5 x 10^n) that holds every value and
    zero. All zeros (or nothing) gives 0..100, so an empty chart still has its axis."""
    low, high = min([Decimal(0), *values]), max([Decimal(0), *values])
    if low == high:
        return Scale(Decimal(0), Decimal(100), Decimal(25))
    rough = (high - low) / TICKS
    magnitude = Decimal(1).scaleb(rough.adjusted())
    step = next(magnitude * nice for nice in NICE_STEPS if magnitude * nice >= rough)
    top = (high / step).to_integral_value(ROUND_CEILING) * step
    bottom = (low / step).to_integral_value(ROUND_FLOOR) * step
    return Scale(bottom, top, step)


def short_amount(value: Decimal) -> str:
    """A tick label: 0, 250, 2.5k, 1.2M (at most one decimal place)."""
    for threshold, suffix in ((Decimal(1_000_000), "M"), (Decimal(1_000), "k"), (Decimal(1), "")):
        if abs(value) >= threshold:
            scaled = (value / threshold).quantize(PX)
            text = f"{scaled:f}".rstrip("0").rstrip(".")
            return text + suffix
    return "0" if value == 0 else f"{value.quantize(Decimal('0.01')):f}"


def _px(value: Decimal) -> str:
    return f"{value.quantize(PX):f}"


def bar_chart(points: Sequence[Point], *, chart_id: str, title: str) -> Markup:
    """The chart as an inline <svg> element (safe to put in a template as is)."""
    scale = nice_scale([v for p in points for v in (p.revenue, p.profit)])
    plot_w, plot_h = Decimal(WIDTH - LEFT - RIGHT), Decimal(HEIGHT - TOP - BOTTOM)

    def y(value: Decimal) -> Decimal:
        return TOP + (scale.top - value) / (scale.top - scale.bottom) * plot_h

    losses = sum(1 for p in points if p.profit < 0)
    revenue = sum((p.revenue for p in points), Decimal(0))
    profit = sum((p.profit for p in points), Decimal(0))
    summary = (f"{len(points)} periods: revenue {money(revenue)} in all, profit {money(profit)}"
               + (f"; {losses} with a loss" if losses else "") + ".")
    parts = [
        f'<svg id="{escape(chart_id)}" class="bar-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(summary)}</desc>',
    ]
    for tick in scale.ticks():
        ty = _px(y(tick))
        line_class = "zero" if tick == 0 else "gridline"
        parts.append(f'<line class="{line_class}" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty}" y2="{ty}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{ty}" text-anchor="end" '
                     f'dominant-baseline="middle">{escape(short_amount(tick))}</text>')
    if not points or (revenue == 0 and all(p.profit == 0 for p in points)):
        parts.append(f'<text class="no-data" x="{_px(LEFT + plot_w / 2)}" y="{_px(TOP + plot_h / 2)}" '
                     f'text-anchor="middle">No sales in this period</text>')
    group_w = plot_w / max(len(points), 1)
    bar_w = group_w * Decimal("0.36")
    zero = y(Decimal(0))
    for index, point in enumerate(points):
        left = LEFT + group_w * index + group_w * Decimal("0.12")
        for offset, value, kind in ((0, point.revenue, "revenue"), (1, point.profit, "profit")):
            css = "bar-loss" if kind == "profit" and value < 0 else f"bar-{kind}"
            name = "loss" if css == "bar-loss" else kind
            top = min(y(value), zero)
            parts.append(
                f'<rect class="{css}" x="{_px(left + offset * (bar_w + 2))}" y="{_px(top)}" '
                f'width="{_px(bar_w)}" height="{_px(abs(y(value) - zero))}">'
                f'<title>{escape(point.long_label)}: {name} {escape(money(value))}</title></rect>')
        centre = LEFT + group_w * index + group_w / 2
        parts.append(f'<text class="period" x="{_px(centre)}" y="{HEIGHT - 10}" '
                     f'text-anchor="middle">{escape(point.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
