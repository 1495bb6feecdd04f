"""Clients of a live test server (liveserver.serve) over real HTTP, for the
tests that send requests at the same time from many threads."""

from __future__ import annotations

import http.cookiejar
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from webtests import PASSWORD

T = TypeVar("T")


class LiveUser:
    """A client with its own cookies, logged in when ``name`` is given."""

    def __init__(self, base: str, name: str | None = None, password: str = PASSWORD,
                 address: str | None = None):
        self.base, self.csrf = base, ""
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        if name is not None:
            status, body = self.post("/api/login", {"name": name, "password": password})
            assert status == 200, body
            self.csrf = body["csrf"]

    def post(self, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base + path, data=json.dumps(body or {}).encode(), method="POST",
            headers={"Content-Type": "application/json", "X-CSRF-Token": self.csrf})
        return self._send(request)

    def get(self, path: str) -> tuple[int, Any]:
        return self._send(urllib.request.Request(self.base + path))

    def _send(self, request: urllib.request.Request) -> tuple[int, Any]:
        try:
            with self.opener.open(request, timeout=120) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


def at_once(calls: list[Callable[[], T]]) -> list[T]:
    """Run ``calls`` in as many threads, released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))
