"""Schema-driven fuzzing: every operation of the OpenAPI description, called with generated
path, query and form values (huge and negative numbers, control characters, NUL, long text,
random bytes as files), never answers with a server error."""

from __future__ import annotations

import re
import string
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.helpers import make_user, people, person_row

NUMBERS = st.one_of(st.integers(-3, 5), st.integers(2**31 - 2, 2**63),
                    st.integers(-(2**70), 2**70))
TEXT = st.one_of(st.text(max_size=40), st.text(alphabet=string.printable + "\x00\u202e",
                                               max_size=400),
                 st.sampled_from(["", "online", "print", "P1", "2026/27", "2026-13-01", "yes"]))


# Sign-in slows down on purpose after failures (tests/security/test_signin_throttle.py), and
# sign-out would end the fuzzing session.
SKIP = {"/signin", "/signout"}


def _value(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    kinds = {s.get("type") for s in schema.get("anyOf", [schema])}
    if schema.get("format") == "binary" or "array" in kinds and schema.get("items", {}).get(
            "format") == "binary":
        return st.binary(max_size=2000)
    if "integer" in kinds:
        return NUMBERS.map(str)
    if "array" in kinds:
        return st.lists(TEXT, max_size=3)
    return TEXT


def _operations(app) -> list[tuple[str, str, dict[str, Any]]]:
    schema = app.openapi()
    return [(method.upper(), path, op) for path, item in sorted(schema["paths"].items())
            for method, op in item.items()
            if path not in SKIP]


@pytest.fixture
def signed_in_app(ctx):
    from web.app import create_app

    make_user(ctx, "root1", "office,editor,dpo")
    people(ctx, person_row("P1"))
    app = create_app(ctx.settings, ctx)
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)
        client.post("/signin", data={"username": "root1", "password": "long-password-1",
                                     "csrf": token})
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/account").text).group(1)
        yield app, client, token


def test_no_operation_answers_with_a_server_error(signed_in_app):
    app, client, token = signed_in_app
    ops = _operations(app)
    assert len(ops) > 20

    @settings(max_examples=6, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(data=st.data())
    def call_each(data):
        for method, path, op in ops:
            url = path
            query = {}
            for param in op.get("parameters", []):
                value = data.draw(_value(param.get("schema", {})))
                if param["in"] == "path":
                    url = url.replace("{" + param["name"] + "}", quote(str(value), safe="") or "x")
                elif param["in"] == "query":
                    query[param["name"]] = value
            form, files = {}, {}
            body = op.get("requestBody", {}).get("content", {})
            for media in body.values():
                ref = media.get("schema", {}).get("$ref", "")
                props = app.openapi()["components"]["schemas"].get(ref.split("/")[-1], {}).get(
                    "properties", {})
                for name, prop in props.items():
                    value = data.draw(_value(prop))
                    if isinstance(value, bytes):
                        files[name] = ("f.bin", value, "application/octet-stream")
                    else:
                        form[name] = value
            resp = client.request(method, url, params=query, data=form or None,
                                  files=files or None,
                                  headers={"x-csrf-token": token, "accept": "application/json"})
            assert resp.status_code < 500, (method, url, query, form, resp.text[:300])

    call_each()
