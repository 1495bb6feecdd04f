"""No input reaches a server error: every route of the OpenAPI document
(the JSON API and the pages) is called with paths, queries and bodies that
hypothesis draws from the document's schemas and beyond them (ids past 2⁶³,
negative ids, any text, any JSON, any bytes), by logged-in users of the
demo plan, on SQLite and on PostgreSQL.  Every answer must be below 500.

The number of calls is bounded ($COUNTERPLAN_FUZZ_EXAMPLES per backend,
default 150), so the test takes a minute or two in CI.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webtests import Web

EXAMPLES = int(os.environ.get("COUNTERPLAN_FUZZ_EXAMPLES", "150"))
USERS = ("office", "agro-delegate", "agro-member1")
#: Names that exist in the demo, so that the draws reach past the 404s.
NAMES = {"plan": ["brazil"], "unit": ["agro", "food", "mining"]}
HUGE = [2**63 - 1, 2**63, 2**64, 10**30, -1, -(2**63) - 1, 0, 1, 2]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: tuple[dict[str, Any], ...]
    body: dict[str, Any] | None  # content type → schema

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every route but logging out (which would end the fuzzing users' sessions)."""
    return [Operation(method.upper(), path, tuple(op.get("parameters", [])),
                      op.get("requestBody", {}).get("content"))
            for path, methods in document["paths"].items()
            for method, op in methods.items() if not path.endswith("/logout")]


def resolve(schema: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


TEXT = st.one_of(st.text(max_size=30), st.sampled_from(
    ["", "agro", "labour", "agriculture", "2027", "1e308", "-1", "nan", "inf", "1" * 40,
     "x" * 3000, "'; DROP TABLE users; --", "\x00", "<script>"]))
NUMBER = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                   st.integers(min_value=-(2**70), max_value=2**70),
                   st.sampled_from(HUGE))
JSON_ANY = st.recursive(st.none() | st.booleans() | NUMBER | TEXT,
                        lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)


def value_of(schema: dict[str, Any], document: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Mostly what the schema says, sometimes anything at all."""
    schema = resolve(schema, document)
    if "anyOf" in schema:
        return st.one_of(*[value_of(s, document) for s in schema["anyOf"]])
    kind = schema.get("type")
    fitting: st.SearchStrategy[Any]
    if kind == "object" and "properties" in schema:
        fitting = st.fixed_dictionaries(
            {}, optional={k: value_of(v, document) for k, v in schema["properties"].items()})
    elif kind == "object":
        fitting = st.dictionaries(st.one_of(TEXT, st.integers().map(str),
                                            st.sampled_from(HUGE).map(str)),
                                  value_of(schema.get("additionalProperties", {}), document),
                                  max_size=4)
    elif kind == "integer":
        fitting = st.one_of(st.integers(min_value=-(2**70), max_value=2**70),
                            st.sampled_from(HUGE))
    elif kind == "number":
        fitting = NUMBER
    elif kind == "boolean":
        fitting = st.booleans()
    elif kind == "string":
        fitting = TEXT
    else:
        fitting = JSON_ANY
    return st.one_of(fitting, fitting, fitting, JSON_ANY)


def segment(parameter: dict[str, Any]) -> st.SearchStrategy[str]:
    """A path or query parameter as text."""
    name, kind = parameter["name"], parameter["schema"].get("type")
    known = st.sampled_from(NAMES[name]) if name in NAMES else st.nothing()
    numbers = st.one_of(st.sampled_from(HUGE), st.integers(min_value=-(2**66),
                                                            max_value=2**66)).map(str)
    return st.one_of(known, known, numbers if kind == "integer" else known, TEXT)


@st.composite
def calls(draw: st.DrawFn, ops: list[Operation], document: dict[str, Any]
          ) -> tuple[Operation, str, str, dict[str, Any]]:
    op = draw(st.sampled_from(ops))
    who = draw(st.sampled_from(USERS))
    path, query = op.path, {}
    for p in op.parameters:
        text = draw(segment(p))
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", quote(text, safe="") or "%20")
        elif draw(st.booleans()):
            query[p["name"]] = text
    kw: dict[str, Any] = {"params": query}
    content = op.body or {}
    if "application/json" in content:
        body = draw(value_of(content["application/json"]["schema"], document))
        kw["content"] = draw(st.one_of(st.just(json.dumps(body)), st.binary(max_size=64)))
        kw["headers"] = {"Content-Type": "application/json"}
    elif "application/x-www-form-urlencoded" in content:
        schema = resolve(content["application/x-www-form-urlencoded"]["schema"], document)
        kw["data"] = draw(st.fixed_dictionaries({}, optional={
            k: TEXT for k in schema.get("properties", {})}))
    elif "multipart/form-data" in content or op.path.endswith("/upload"):
        kw["files"] = {"file": ("counterplan.csv", draw(st.one_of(
            st.binary(max_size=200),
            st.sampled_from([b"id,kind,item,period,value\nx,capacity,labour,2027,1e308\n",
                             b"id;kind;value\nx;pledge;1\n", b"\xff\xfe", b""]))))}
        kw["data"] = {"name": draw(TEXT)}
    return op, who, path, kw


@pytest.fixture
def document(web: Web) -> dict[str, Any]:
    doc: dict[str, Any] = web.app.openapi()
    return doc


def send(web: Web, who: str, op: Operation, path: str, kw: dict[str, Any]) -> Any:
    user = web.as_(who)
    if op.method == "GET":
        return user.get(path, params=kw.get("params"), headers={"Accept": "text/html"})
    if "data" in kw and not path.startswith("/api"):
        kw["data"] = {"csrf": user.csrf, **kw["data"]}
    return user.post(path, follow_redirects=False, **kw)


def test_ids_past_the_databases_range_are_not_found(web: Web) -> None:
    office = web.as_("office")
    for path in ["/api/plans/brazil/versions/{n}", "/plans/brazil/versions/{n}",
                 "/api/plans/brazil/polls/{n}", "/api/plans/brazil/rounds/{n}/outcomes",
                 "/plans/brazil/compare/1/{n}"]:
        for n in (2**63, 2**64, 10**40, -1):
            got = office.get(path.replace("{n}", str(n)), headers={"Accept": "text/html"})
            assert got.status_code == 404, (path, n, got.text[:200])
            if path.startswith("/api"):
                assert "names no" in got.json()["error"]
            else:
                assert got.headers["content-type"].startswith("text/html")
                assert "Not found" in got.text
    for path in ["/api/plans/brazil/proposals/{n}/submit", "/plans/brazil/polls/{n}/close"]:
        got = office.post(path.replace("{n}", str(2**63)), data={"csrf": office.csrf},
                          headers={"Accept": "text/html"}, follow_redirects=False)
        assert got.status_code == 404
    ballot = office.post("/api/plans/brazil/polls/1/ballot",
                         json={"choices": {str(2**63): True}})
    assert ballot.status_code == 422


def test_an_unknown_page_is_a_page_and_an_unknown_api_call_json(web: Web) -> None:
    member = web.as_("agro-member1")
    page = member.get("/no/such/page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Not found" in page.text and "Go back" in page.text
    api = member.get("/api/no/such/call", headers={"Accept": "text/html"})
    assert api.status_code == 404 and "names no" in api.json()["error"]
    anonymous = web.anonymous().get("/nothing-here", headers={"Accept": "text/html"})
    assert anonymous.status_code == 404 and "Not found" in anonymous.text
    wrong_method = member.client.delete("/api/plans")
    assert wrong_method.status_code == 405 and "DELETE" in wrong_method.json()["error"]


def test_no_input_gives_a_server_error(web: Web, document: dict[str, Any]) -> None:
    ops = operations(document)
    assert len(ops) > 40  # every route of the API and the pages

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(calls(ops, document))
    def call(drawn: tuple[Operation, str, str, dict[str, Any]]) -> None:
        op, who, path, kw = drawn
        got = send(web, who, op, path, kw)
        assert got.status_code < 500, f"{op.name} as {who}: {path} {kw} -> " \
                                      f"{got.status_code} {got.text[:300]}"

    call()
