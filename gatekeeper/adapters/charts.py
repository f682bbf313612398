"""Vega-Lite specs -> SVG, drawn on the server by vl-convert (no browser, no JavaScript)."""

from __future__ import annotations

from typing import Any

import vl_convert as vlc


def vega_lite_svg(spec: dict[str, Any]) -> str:
    svg: str = vlc.vegalite_to_svg(spec)
    return svg
