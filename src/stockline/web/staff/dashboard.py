"""The staff's dashboard.

The dashboard reads `reporting.dashboard.stats`, the figures GET /api/admin/dashboard-stats
answers (one statement, cached a few seconds per worker), and draws its series as inline SVG.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from stockline.kernel.context import Ctx
from stockline.reporting import dashboard
from stockline.web.charts import Point, bar_chart
from stockline.web.render import day, render
from stockline.web.session import StaffPage

router = APIRouter(include_in_schema=False)


def daily_points(daily: list[dict[str, Any]]) -> list[Point]:
    """Days labelled by their number, and the month on the 1st (fourteen "25 Nov" labels do
    not fit under the bars; the heading gives the range)."""
    days = [(date.fromisoformat(d["day"]), d) for d in daily]
    return [Point(f"1 {day:%b}" if day.day == 1 else str(day.day), f"{day:%a %d %b %Y}",
                  Decimal(d["revenue"]), Decimal(d["profit"])) for day, d in days]


def weekly_points(weekly: list[dict[str, Any]]) -> list[Point]:
    weeks = [(date.fromisoformat(w["week_start"]), w) for w in weekly]
    return [Point(f"{monday.day} {monday:%b}", f"Week of Monday {monday:%d %b %Y}", Decimal(w["revenue"]),
                  Decimal(w["profit"])) for monday, w in weeks]


@router.get("/staff")
async def dashboard_page(request: Request, ctx: Ctx, user: StaffPage) -> HTMLResponse:
    stats = await dashboard.stats(ctx)
    days, weeks = daily_points(stats["daily"]), weekly_points(stats["weekly"])
    charts = [
        {"id": "chart-daily", "heading": f"Last {len(days)} days", "points": days,
         "range": f"{day(stats['daily'][0]['day'])} – {day(stats['daily'][-1]['day'])}" if days else "",
         "svg": bar_chart(days, chart_id="chart-daily",
                          title=f"Revenue and profit per day, last {len(days)} days (UTC)")},
        {"id": "chart-weekly", "heading": f"Last {len(weeks)} weeks", "points": weeks,
         "range": f"from Monday {day(stats['weekly'][0]['week_start'])}" if weeks else "",
         "svg": bar_chart(weeks, chart_id="chart-weekly",
                          title=f"Revenue and profit per week, last {len(weeks)} weeks (from Mondays)")},
    ]
    return render(request, "staff/dashboard.html", {
        "section": "dashboard", "stats": stats, "charts": charts,
        "expiring_soon_days": ctx.settings.expiring_soon_days, "top_days": dashboard.TOP_WINDOW_DAYS})
