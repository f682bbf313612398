"""Finding 10: security headers on every response and no caching of anything outside /static/
(pages, images and API answers may show personal data)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.testclient import TestClient

from web.headers import CSP, SecurityHeaders

WEB = Path(__file__).resolve().parents[2] / "web"


def _app(tmp_path: Path) -> Starlette:
    (tmp_path / "style.css").write_text("body { color: black }")

    async def page(request):
        return HTMLResponse("<p>Amara's photo</p>")

    async def api(request):
        return JSONResponse(
            {"faces": 2},
            headers={
                "Cache-Control": "public, max-age=3600",
                "Content-Security-Policy": "default-src *",
                "X-Frame-Options": "ALLOWALL",
            },
        )

    async def image(request):
        async def body():
            yield b"\x89PNG"

        return StreamingResponse(body(), media_type="image/png")

    async def boom(request):
        return PlainTextResponse("refused", status_code=403)

    return Starlette(
        routes=[
            Route("/", page),
            Route("/api/photos/1", api),
            Route("/photos/1/image", image),
            Route("/refused", boom),
            Mount("/static", StaticFiles(directory=str(tmp_path)), name="static"),
        ]
    )


def _check_security_headers(response) -> None:
    csp = response.headers["content-security-policy"]
    assert csp == CSP
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "img-src 'self' data: blob:",
        "object-src 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in ("no-referrer", "same-origin")
    assert response.headers["x-frame-options"] == "DENY"
    assert len(response.headers.get_list("content-security-policy")) == 1


@pytest.mark.parametrize("path", ["/", "/api/photos/1", "/photos/1/image", "/refused", "/missing"])
def test_every_response_has_security_headers_and_no_store(tmp_path, path):
    client = TestClient(SecurityHeaders(_app(tmp_path)))
    response = client.get(path)
    _check_security_headers(response)
    assert response.headers.get_list("cache-control") == ["no-store"]


def test_static_files_keep_their_caching_but_get_security_headers(tmp_path):
    client = TestClient(SecurityHeaders(_app(tmp_path)))
    response = client.get("/static/style.css")
    assert response.status_code == 200
    _check_security_headers(response)
    assert "no-store" not in response.headers.get("cache-control", "")


def test_add_middleware_path_csp_and_hsts(tmp_path):
    app = _app(tmp_path)
    app.add_middleware(
        SecurityHeaders, path_csp={"/api/": "default-src 'self'; frame-ancestors 'none'"}, hsts=True
    )
    client = TestClient(app)
    assert client.get("/api/photos/1").headers["content-security-policy"].startswith("default-src 'self';")
    assert client.get("/").headers["content-security-policy"] == CSP
    assert "max-age=" in client.get("/").headers["strict-transport-security"]


# What the strict policy needs of the templates and static scripts: no inline script, no inline
# event handler, no style attribute or element, no eval.
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "inline event handler": re.compile(r"<[^>]+\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"<[^>]+\sstyle\s*=", re.I),
    "<style> element": re.compile(r"<style\b", re.I),
}


def test_templates_need_no_unsafe_inline():
    found = [
        f"{path.name}: {what}"
        for path in sorted((WEB / "templates").glob("*.html"))
        for what, pattern in INLINE.items()
        if pattern.search(path.read_text())
    ]
    found += [
        f"{path.name}: eval"
        for path in sorted((WEB / "static").glob("*.js"))
        if re.search(r"\beval\(|new Function\(|setAttribute\(\s*['\"]style", path.read_text())
    ]
    assert found == []


def test_templates_have_no_javascript_urls():
    offenders = [p.name for p in (WEB / "templates").glob("*.html") if "javascript:" in p.read_text()]
    assert offenders == []


def test_an_unexpected_error_answers_500_with_the_same_headers():
    async def broken(request):
        raise RuntimeError("a bug")

    app = Starlette(routes=[Route("/boom", broken), Route("/api/boom", broken)])
    app.add_middleware(SecurityHeaders)  # as web.app does: inside Starlette's error handler
    client = TestClient(app, raise_server_exceptions=False)
    page = client.get("/boom")
    assert page.status_code == 500 and "Something went wrong" in page.text
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["cache-control"] == "no-store"
    api = client.get("/api/boom")
    assert api.status_code == 500 and "logged" in api.json()["detail"]
    assert "a bug" not in page.text + api.text


def test_an_unexpected_error_logs_no_message_that_could_hold_personal_data(caplog):
    async def broken(request):
        given = request.query_params["given"]  # as data reaches a message, never the code
        raise RuntimeError(f"INSERT ... ('{given}')")

    app = Starlette(routes=[Route("/boom", broken)])
    app.add_middleware(SecurityHeaders)
    with caplog.at_level("ERROR"):
        assert TestClient(app, raise_server_exceptions=False).get(
            "/boom?given=Amara").status_code == 500
    assert "RuntimeError" in caplog.text and "Amara" not in caplog.text
