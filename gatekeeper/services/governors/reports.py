"""The governors' dashboard as pictures and print: one chart as SVG, the whole report as PDF
(the same charts and tables as the page; aggregates only)."""

from __future__ import annotations

from consent_db.models import utcnow
from gatekeeper.adapters.documents import render_document, svg_data_uri
from gatekeeper.adapters.pdf import html_to_pdf
from gatekeeper.errors import NotFound
from gatekeeper.services.accounts.school import school_name
from gatekeeper.services.context import Context
from gatekeeper.services.governors.dashboard import dashboard


def chart_svg(*, ctx: Context, name: str) -> str:
    """One chart of the dashboard by name (the page verifies the audit chain, not each chart)."""
    from gatekeeper.services.governors.charts import CHARTS  # deferred: Altair costs every CLI start 0.4 s

    draw = CHARTS.get(name)
    if draw is None:
        raise NotFound(f"no chart {name}")
    return draw(dashboard(ctx=ctx, verify_audit=False))


def governors_html(*, ctx: Context) -> str:
    """The governors' report as a standalone HTML document, charts embedded."""
    from gatekeeper.services.governors.charts import CHARTS  # deferred: as above

    board = dashboard(ctx=ctx)
    charts = {name: svg_data_uri(draw(board)) for name, draw in CHARTS.items()}
    made_at = utcnow().strftime("%Y-%m-%d %H:%M")
    school = school_name(ctx)
    return render_document("governors.html", board=board, charts=charts, made_at=made_at,
                           title=f"Governors' report {board.academic_year}", school=school,
                           footer=f"{school or 'Gatekeeper'} - governors report "
                                  f"{board.academic_year} - made {made_at} UTC - aggregates only")


def governors_pdf(*, ctx: Context) -> bytes:
    """The governors' report as PDF: every role may have it (no names, photos or ids)."""
    return html_to_pdf(governors_html(ctx=ctx))
