"""The governors' charts (Vega-Altair specs, drawn as SVG on the server by vl-convert): readable
without JavaScript, served as images so the strict CSP holds, and embedded in the PDF report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt

from gatekeeper.adapters.charts import vega_lite_svg
from gatekeeper.domain.deciders import school_order
from gatekeeper.services.governors.dashboard import TAKEDOWN_BINS, Dashboard

WIDTH = 300  # with the legend below, a chart is about 400 px wide: readable on a phone
FONT = "DejaVu Sans"  # the PDF's font: text is measured with the font it is drawn in (no clipping)
_STAGE_COLOURS = {"received": "#9aa0a6", "held": "#d99a00", "scanning": "#b0b7c3",
                  "awaiting review": "#1f5fa8", "approved": "#6a9fd8", "published": "#2b7a3d",
                  "taken down": "#e07b00", "blocked": "#a4161a", "rejected": "#5b6475",
                  "erased": "#3d4452", "purged": "#1d2433"}


def count_ticks(largest: int, most: int = 6) -> list[int]:
    """Whole-number ticks from 0 past `largest`, at most `most` + 1 of them: a count axis never
    reads "0 1 1 2 2"."""
    step = max(1, -(-max(largest, 1) // most))
    return list(range(0, max(largest, 1) + step, step))


def count_axis(largest: int, title: str | None = None) -> Any:
    """A count's axis and scale: integer ticks only, the domain ending on the last tick."""
    ticks = count_ticks(largest)
    axis = (alt.Axis(values=ticks, format="d", title=title) if title
            else alt.Axis(values=ticks, format="d"))
    return axis, alt.Scale(domain=[0, ticks[-1]], nice=False)


def _svg(chart: Any) -> str:
    """Legends below the chart (nothing beyond its right edge to clip), larger text, one font
    that the PDF renderer has too, and room around the edges."""
    return vega_lite_svg(
        chart.properties(padding=12).configure(font=FONT)
        .configure_legend(orient="bottom", direction="horizontal", columns=2, labelLimit=0,
                          titleLimit=0, labelFontSize=12, titleFontSize=12)
        .configure_axis(labelFontSize=12, titleFontSize=12, labelLimit=160, titlePadding=10)
        .configure_title(fontSize=14).to_dict())


MONTH_AXIS = alt.Axis(labelAngle=0, labelPadding=4)  # "2026-12" level, clear of the axis title


def _data(rows: list[dict[str, Any]], empty: dict[str, Any] | None = None) -> Any:
    """Inline data for a chart; `empty` stands in when there are no rows (an empty axis)."""
    return alt.Data(values=rows or ([empty] if empty else []))  # type: ignore[no-untyped-call]  # altair: no hints


def consent_chart(board: Dashboard) -> str:
    rows: list[dict[str, Any]] = [
        {"year group": c["year_group"], "use": c["kind"], "answer": answer, "pupils": c[answer]}
        for c in board.consent for answer in ("granted", "refused", "withdrawn", "missing")]
    axis, scale = count_axis(max((c["pupils"] for c in board.consent), default=0))
    groups = sorted({c["year_group"] for c in board.consent}, key=school_order)
    return _svg(alt.Chart(_data(rows, {
        "year group": "none", "use": "", "answer": "missing", "pupils": 0})).mark_bar().encode(
        x=alt.X("pupils:Q", stack="zero", axis=axis, scale=scale),
        y=alt.Y("year group:N", title=None, sort=groups or None),
        color=alt.Color("answer:N", scale=alt.Scale(
            domain=["granted", "refused", "withdrawn", "missing"],
            range=["#2b7a3d", "#8a5a00", "#a4161a", "#9aa0a6"])),
        row=alt.Row("use:N")).properties(width=WIDTH, title=f"Consent {board.academic_year}"))


def publications_chart(board: Dashboard) -> str:
    axis, scale = count_axis(max((m["count"] for m in board.per_month), default=0), "copies")
    return _svg(alt.Chart(_data(board.per_month, {
        "month": "", "what": "published", "count": 0})).mark_bar().encode(
        x=alt.X("month:O", axis=MONTH_AXIS), y=alt.Y("count:Q", axis=axis, scale=scale),
        color=alt.Color("what:N", title=None),
        xOffset="what:N").properties(width=WIDTH, height=220,
                                     title="Publications and takedowns per month"))


def stages_chart(board: Dashboard) -> str:
    rows = [{"stage": k.replace("_", " "), "photos": v} for k, v in board.stages.items()]
    axis, scale = count_axis(max(board.stages.values(), default=0))
    return _svg(alt.Chart(_data(rows, {"stage": "none", "photos": 0}))
                .mark_bar().encode(x=alt.X("photos:Q", axis=axis, scale=scale),
                                   y=alt.Y("stage:N", sort="-x", title=None))
                .properties(width=WIDTH, title="Photos by stage"))


def stages_over_time_chart(board: Dashboard) -> str:
    """Photos uploaded each month, by the stage they are in now (published, blocked, purged...)."""
    rows = [{**r, "stage": r["stage"].replace("_", " ")} for r in board.stage_months]
    domain = [s for s in _STAGE_COLOURS if any(r["stage"] == s for r in rows)] or ["received"]
    per_month: dict[str, int] = {}
    for r in rows:
        per_month[r["month"]] = per_month.get(r["month"], 0) + r["photos"]
    axis, scale = count_axis(max(per_month.values(), default=0))
    return _svg(alt.Chart(_data(rows, {
        "month": "", "stage": "received", "photos": 0})).mark_bar().encode(
        x=alt.X("month:O", title="month uploaded", axis=MONTH_AXIS),
        y=alt.Y("photos:Q", stack="zero", axis=axis, scale=scale),
        color=alt.Color("stage:N", title="stage", scale=alt.Scale(
            domain=domain, range=[_STAGE_COLOURS[s] for s in domain])))
        .properties(width=WIDTH, height=220, title="Photos by stage over time"))


def takedown_chart(board: Dashboard) -> str:
    """How long takedowns after a withdrawal took: how many fell in each band of hours."""
    rows = [{"band": label, "order": i, "takedowns": n}
            for i, (label, n) in enumerate(board.takedown_bands().items())]
    axis, scale = count_axis(max(board.takedown_bands().values(), default=0))
    return _svg(alt.Chart(_data(rows)).mark_bar().encode(
        x=alt.X("band:N", sort=[label for label, _upper in TAKEDOWN_BINS], title="hours",
                axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("takedowns:Q", axis=axis, scale=scale)).properties(
        width=WIDTH, height=180, title="From a withdrawal to its takedown"))


def reasons_chart(board: Dashboard) -> str:
    rows = [{"reason": k, "photos": v} for k, v in board.blocked_reasons.items()]
    axis, scale = count_axis(max(board.blocked_reasons.values(), default=0))
    return _svg(alt.Chart(_data(rows, {"reason": "none", "photos": 0}))
                .mark_bar().encode(x=alt.X("photos:Q", axis=axis, scale=scale),
                                   y=alt.Y("reason:N", sort="-x", title=None))
                .properties(width=WIDTH, title="Blocked and held photos by reason"))


CHARTS: dict[str, Callable[[Dashboard], str]] = {
    "consent": consent_chart, "stages": stages_chart, "stages-over-time": stages_over_time_chart,
    "publications": publications_chart, "takedowns": takedown_chart, "reasons": reasons_chart}

