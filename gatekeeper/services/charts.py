"""Server-side SVG charts (Vega-Altair specs rendered by vl-convert): readable without
JavaScript, served as images so the strict CSP holds."""

from __future__ import annotations

from typing import Any

import altair as alt
import vl_convert as vlc

from gatekeeper.services.governors import Dashboard


def _svg(chart: alt.TopLevelMixin) -> str:
    svg: str = vlc.vegalite_to_svg(chart.to_dict())
    return svg


def consent_chart(board: Dashboard) -> str:
    rows: list[dict[str, Any]] = [
        {"year group": c["year_group"], "use": c["kind"], "answer": answer, "pupils": c[answer]}
        for c in board.consent for answer in ("granted", "refused", "withdrawn", "missing")]
    return _svg(alt.Chart(alt.Data(values=rows)).mark_bar().encode(
        x=alt.X("pupils:Q", stack="zero"), y=alt.Y("year group:N", title=None),
        color=alt.Color("answer:N", scale=alt.Scale(
            domain=["granted", "refused", "withdrawn", "missing"],
            range=["#2b7a3d", "#8a5a00", "#a4161a", "#9aa0a6"])),
        row=alt.Row("use:N")).properties(width=420, title=f"Consent {board.academic_year}"))


def publications_chart(board: Dashboard) -> str:
    return _svg(alt.Chart(alt.Data(values=board.per_month or [
        {"month": "", "what": "published", "count": 0}])).mark_bar().encode(
        x=alt.X("month:O"), y=alt.Y("count:Q"), color=alt.Color("what:N"),
        xOffset="what:N").properties(width=420, height=220,
                                     title="Publications and takedowns per month"))


def stages_chart(board: Dashboard) -> str:
    rows = [{"stage": k.replace("_", " "), "photos": v} for k, v in board.stages.items()]
    return _svg(alt.Chart(alt.Data(values=rows or [{"stage": "none", "photos": 0}]))
                .mark_bar().encode(x=alt.X("photos:Q"), y=alt.Y("stage:N", sort="-x"))
                .properties(width=420, title="Photos by stage"))


CHARTS = {"consent": consent_chart, "publications": publications_chart, "stages": stages_chart}
