"""What a request may carry, against a real server: uploads sent chunked,
without a Content-Length, are refused while they stream in (413 at the
limit), and before any of their body is read when the sender is not logged
in (401, or the login page) or the form's CSRF token is wrong (403)."""

from __future__ import annotations

import http.client
import json
import select
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from liveserver import serve
from webtests import PASSWORD

LIMIT = 1024 * 1024  # the server's max_upload here
CHUNK = 64 * 1024
OFFERED = 64 * 1024 * 1024  # what the sender would send if nobody stopped it
#: Loopback socket buffers hold a few MiB that the server never read.
BUFFERS = 12 * 1024 * 1024
BOUNDARY = "counterplan-test-boundary"


@pytest.fixture(scope="module")
def site(templates: dict[str, str], tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[str]:
    copy = tmp_path_factory.mktemp("limits") / "counterplan.db"
    shutil.copy(templates["sqlite"].removeprefix("sqlite:///"), copy)
    with serve(f"sqlite:///{copy}", max_upload=LIMIT, max_request=64 * 1024) as url:
        yield url


@dataclass(frozen=True)
class Sent:
    status: int
    sent: int
    head: str


def login(site: str, name: str = "agro-delegate") -> tuple[str, str]:
    """(session cookie, CSRF token) of ``name``."""
    host = urlsplit(site)
    c = http.client.HTTPConnection(host.hostname or "", host.port)
    c.request("POST", "/api/login", json.dumps({"name": name, "password": PASSWORD}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200
    cookie = (r.getheader("set-cookie") or "").split(";")[0]
    csrf = json.loads(r.read())["csrf"]
    c.close()
    return cookie, csrf


def part(name: str, value: str) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
            f"{value}\r\n").encode()


def file_head(filename: str = "counterplan.csv") -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n").encode()


def chunked(site: str, path: str, headers: dict[str, str], preamble: bytes,
            content_type: str = f"multipart/form-data; boundary={BOUNDARY}") -> Sent:
    """POST ``preamble`` then an endless file, chunked with no Content-Length,
    until the server answers; how much was sent by then."""
    host = urlsplit(site)
    with socket.create_connection((host.hostname, host.port), timeout=30) as s:
        lines = [f"POST {path} HTTP/1.1", f"Host: {host.netloc}",
                 "Transfer-Encoding: chunked", f"Content-Type: {content_type}",
                 "Accept: text/html", *(f"{k}: {v}" for k, v in headers.items())]
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        body = [preamble] + [b"x,capacity,labour,2027,1\n" * (CHUNK // 25)] * \
            (OFFERED // CHUNK)
        sent = 0
        for piece in body:
            if select.select([s], [], [], 0)[0]:
                break  # the server answered
            try:
                s.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        head = b""
        try:
            while b"\r\n\r\n" not in head:
                got = s.recv(65536)
                if not got:
                    break
                head += got
        except ConnectionResetError:
            pass
    text = head.decode("latin-1")
    assert text.startswith("HTTP/1.1 "), f"no answer after {sent} bytes: {text[:200]!r}"
    return Sent(int(text.split()[1]), sent, text)


UPLOADS = ["/api/plans/brazil/units/agro/proposals/upload", "/api/plans/upload",
           "/plans/brazil/units/agro/proposals/upload", "/plans/upload"]


@pytest.mark.parametrize("path", UPLOADS)
def test_no_session_is_refused_before_the_body(site: str, path: str) -> None:
    got = chunked(site, path, {}, part("name", "mine") + file_head())
    if path.startswith("/api"):
        assert got.status == 401
    else:
        assert got.status == 303 and "location: /login" in got.head.lower()
    assert got.sent < BUFFERS


@pytest.mark.parametrize("path", UPLOADS)
def test_a_chunked_upload_is_stopped_at_the_limit(site: str, path: str) -> None:
    cookie, csrf = login(site)
    preamble = part("csrf", csrf) + part("name", "mine") + file_head()
    got = chunked(site, path, {"Cookie": cookie, "X-CSRF-Token": csrf}, preamble)
    assert got.status == 413, got.head
    assert got.sent < BUFFERS, f"{got.sent / 2**20:.0f} MiB were taken before the 413"


@pytest.mark.parametrize("path", UPLOADS)
def test_a_wrong_csrf_token_is_refused_before_the_file(site: str, path: str) -> None:
    cookie, _ = login(site)
    preamble = part("csrf", "forged") + part("name", "mine") + file_head()
    got = chunked(site, path, {"Cookie": cookie, "X-CSRF-Token": "forged"}, preamble)
    assert got.status == 403, got.head
    assert got.sent < BUFFERS


def test_a_page_form_must_send_its_token_before_the_file(site: str) -> None:
    cookie, csrf = login(site)
    got = chunked(site, "/plans/brazil/units/agro/proposals/upload", {"Cookie": cookie},
                  file_head() + b"id,kind\n" + f"\r\n{part('csrf', csrf).decode()}".encode())
    assert got.status == 403 and got.sent < BUFFERS


def test_any_other_body_is_limited_too(site: str) -> None:
    cookie, csrf = login(site)
    got = chunked(site, "/api/plans/brazil/units/agro/proposals",
                  {"Cookie": cookie, "X-CSRF-Token": csrf}, b'{"kind": "pledge", "note": "',
                  content_type="application/json")
    assert got.status == 413 and got.sent < BUFFERS
    anonymous = chunked(site, "/api/login", {}, b'{"name": "', content_type="application/json")
    assert anonymous.status == 413 and anonymous.sent < BUFFERS


def test_a_small_upload_still_works(site: str) -> None:
    cookie, csrf = login(site)
    host = urlsplit(site)
    body = (part("csrf", csrf) + file_head()
            + b"id,kind,item,period,value\nmore,capacity,labour,2027,1000\n"
            + f"\r\n--{BOUNDARY}--\r\n".encode())
    c = http.client.HTTPConnection(host.hostname or "", host.port)
    c.request("POST", "/api/plans/brazil/units/agro/proposals/upload", body,
              {"Cookie": cookie, "X-CSRF-Token": csrf,
               "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    r = c.getresponse()
    made = json.loads(r.read())
    assert r.status == 201 and made[0]["verdict"] == "accepted", made
    c.close()

