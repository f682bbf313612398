"""The governors' charts (Vega-Altair specs, drawn as SVG on the server by vl-convert): readable
without JavaScript, served as images so the strict CSP holds, and embedded in the PDF report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt

from gatekeeper.adapters.charts import vega_lite_svg
from gatekeeper.services.governors.dashboard import TAKEDOWN_BINS, Dashboard

COUNT_AXIS = alt.Axis(format="d", tickMinStep=1)  # counts: whole numbers on the axis
WIDTH = 420
_STAGE_COLOURS = {"received": "#9aa0a6", "held": "#d99a00", "scanning": "#b0b7c3",
                  "awaiting review": "#1f5fa8", "approved": "#6a9fd8", "published": "#2b7a3d",
                  "taken down": "#e07b00", "blocked": "#a4161a", "rejected": "#5b6475",
                  "erased": "#3d4452", "purged": "#1d2433"}


def _svg(chart: Any) -> str:
    return vega_lite_svg(chart.to_dict())


def _data(rows: list[dict[str, Any]], empty: dict[str, Any] | None = None) -> Any:
    """Inline data for a chart; `empty` stands in when there are no rows (an empty axis)."""
    return alt.Data(values=rows or ([empty] if empty else []))  # type: ignore[no-untyped-call]  # altair: no hints


def consent_chart(board: Dashboard) -> str:
    rows: list[dict[str, Any]] = [
        {"year group": c["year_group"], "use": c["kind"], "answer": answer, "pupils": c[answer]}
        for c in board.consent for answer in ("granted", "refused", "withdrawn", "missing")]
    return _svg(alt.Chart(_data(rows, {
        "year group": "none", "use": "", "answer": "missing", "pupils": 0})).mark_bar().encode(
        x=alt.X("pupils:Q", stack="zero", axis=COUNT_AXIS), y=alt.Y("year group:N", title=None),
        color=alt.Color("answer:N", scale=alt.Scale(
            domain=["granted", "refused", "withdrawn", "missing"],
            range=["#2b7a3d", "#8a5a00", "#a4161a", "#9aa0a6"])),
        row=alt.Row("use:N")).properties(width=WIDTH, title=f"Consent {board.academic_year}"))


def publications_chart(board: Dashboard) -> str:
    return _svg(alt.Chart(_data(board.per_month, {
        "month": "", "what": "published", "count": 0})).mark_bar().encode(
        x=alt.X("month:O"), y=alt.Y("count:Q", axis=COUNT_AXIS), color=alt.Color("what:N"),
        xOffset="what:N").properties(width=WIDTH, height=220,
                                     title="Publications and takedowns per month"))


def stages_chart(board: Dashboard) -> str:
    rows = [{"stage": k.replace("_", " "), "photos": v} for k, v in board.stages.items()]
    return _svg(alt.Chart(_data(rows, {"stage": "none", "photos": 0}))
                .mark_bar().encode(x=alt.X("photos:Q", axis=COUNT_AXIS), y=alt.Y("stage:N", sort="-x"))
                .properties(width=WIDTH, title="Photos by stage"))


def stages_over_time_chart(board: Dashboard) -> str:
    """Photos uploaded each month, by the stage they are in now (published, blocked, purged...)."""
    rows = [{**r, "stage": r["stage"].replace("_", " ")} for r in board.stage_months]
    domain = [s for s in _STAGE_COLOURS if any(r["stage"] == s for r in rows)] or ["received"]
    return _svg(alt.Chart(_data(rows, {
        "month": "", "stage": "received", "photos": 0})).mark_bar().encode(
        x=alt.X("month:O", title="month uploaded"), y=alt.Y("photos:Q", stack="zero", axis=COUNT_AXIS),
        color=alt.Color("stage:N", title="stage", scale=alt.Scale(
            domain=domain, range=[_STAGE_COLOURS[s] for s in domain])))
        .properties(width=WIDTH, height=220, title="Photos by stage over time"))


def takedown_chart(board: Dashboard) -> str:
    """How long takedowns after a withdrawal took: how many fell in each band of hours."""
    rows = [{"band": label, "order": i, "takedowns": n}
            for i, (label, n) in enumerate(board.takedown_bands().items())]
    return _svg(alt.Chart(_data(rows)).mark_bar().encode(
        x=alt.X("band:N", sort=[label for label, _upper in TAKEDOWN_BINS], title="hours"),
        y=alt.Y("takedowns:Q", axis=COUNT_AXIS)).properties(
        width=WIDTH, height=180, title="From a withdrawal to its takedown"))


def reasons_chart(board: Dashboard) -> str:
    rows = [{"reason": k, "photos": v} for k, v in board.blocked_reasons.items()]
    return _svg(alt.Chart(_data(rows, {"reason": "none", "photos": 0}))
                .mark_bar().encode(x=alt.X("photos:Q", axis=COUNT_AXIS),
                                   y=alt.Y("reason:N", sort="-x", title=None))
                .properties(width=WIDTH, title="Blocked and held photos by reason"))


CHARTS: dict[str, Callable[[Dashboard], str]] = {
    "consent": consent_chart, "stages": stages_chart, "stages-over-time": stages_over_time_chart,
    "publications": publications_chart, "takedowns": takedown_chart, "reasons": reasons_chart}

