"""Geocoding fixtures: a stub geocoding server on 127.0.0.1 and apps pointed at it; no test reaches the internet.

The stub speaks the two protocols geopy's real clients use: Nominatim's /search and Baidu's
/geocoding/v3/. It answers from `stub.places` and records every query it was asked.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from tests.conftest import TEST_PASSWORD

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass
class StubAnswer:
    lng: float
    lat: float
    display_name: str = "卜奎大街168号, 龙沙区, 齐齐哈尔市, 黑龙江省, 中国"
    place_rank: int = 30  # Nominatim: 30 is a house, 16 and below a town or larger
    level: str = "门址"  # Baidu: what the answer matched (门址, 道路, 城市, …)


@dataclass
class GeocodingStub:
    port: int = 0
    places: dict[str, StubAnswer] = field(default_factory=dict)
    requests: list[tuple[str, str, dict]] = field(default_factory=list)  # (path, query, params)
    status: int = 200  # anything else: answer with this HTTP error
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def queries(self) -> list[str]:
        with self.lock:
            return [query for _path, query, _params in self.requests]

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.requests)

    def add(self, query: str, lng: float, lat: float, **details) -> None:
        self.places[query] = StubAnswer(lng, lat, **details)


class _StubHandler(BaseHTTPRequestHandler):
    server_version = "GeocodingStub/1"

    def do_GET(self):
        stub: GeocodingStub = self.server.stub
        url = urlsplit(self.path)
        params = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path == "/search":
            query = params.get("q", "")
        elif url.path == "/geocoding/v3/":
            query = params.get("address", "")
        else:
            self._send(404, {"error": "unknown path"})
            return
        with stub.lock:
            stub.requests.append((url.path, query, params))
        if stub.delay_s:
            time.sleep(stub.delay_s)
        if stub.status != 200:
            self._send(stub.status, {"error": "stub failure"})
            return
        answer = stub.places.get(query)
        if url.path == "/search":
            self._send(200, [] if answer is None else [_nominatim_place(answer)])
        else:
            self._send(200, {"status": 0, "result": []} if answer is None else _baidu_result(answer))

    def _send(self, status: int, payload) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def log_message(self, format, *args):
        pass


def _nominatim_place(answer: StubAnswer) -> dict:
    return {
        "place_id": 1,
        "lat": str(answer.lat),
        "lon": str(answer.lng),
        "display_name": answer.display_name,
        "class": "place",
        "type": "house",
        "place_rank": answer.place_rank,
    }


def _baidu_result(answer: StubAnswer) -> dict:
    location = {"lng": answer.lng, "lat": answer.lat}
    return {
        "status": 0,
        "result": {"location": location, "precise": 1, "confidence": 80, "comprehension": 100, "level": answer.level},
    }


@pytest.fixture(autouse=True)
def no_internet(monkeypatch):
    """Name resolution outside loopback fails (and fails the test), so nothing here can reach the internet."""
    attempted = []
    resolve = socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        if host not in LOOPBACK_HOSTS:
            attempted.append(host)
            raise OSError(f"tests must not reach {host}")
        return resolve(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    yield
    assert not attempted, f"a test tried to reach {attempted}"


@pytest.fixture
def stub():
    """A geocoding server on 127.0.0.1 (a free port), in a thread, for this test only."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StubHandler)
    server.daemon_threads = True
    server.stub = GeocodingStub(port=server.server_address[1])
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="geocoding-stub", daemon=True
    )
    thread.start()
    yield server.stub
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def geo_app(make_app, stub, world):
    """The app with Nominatim pointed at the stub, no delay between calls (same database as `app`)."""
    return make_app(GEOCODER_DOMAIN=stub.domain, GEOCODER_SCHEME="http", GEOCODER_MIN_DELAY_SECONDS=0)


@pytest.fixture
def baidu_app(make_app, stub, world):
    """The app with BaiduV3 pointed at the stub."""
    return make_app(
        GEOCODER="baidu",
        BAIDU_AK="test-ak",
        GEOCODER_DOMAIN=stub.domain,
        GEOCODER_SCHEME="http",
        GEOCODER_MIN_DELAY_SECONDS=0,
    )


def login_to(app, username: str, password: str = TEST_PASSWORD):
    """A test client of `app` with `username` logged in."""
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, f"login as {username} failed: {response.status_code}"
    return client


def add_estates(app, dealer_id: int, city_id: int, specs) -> list[int]:
    """Add estates without a position from (name, district, address) triples; return their ids."""
    with app.app_context():
        ids = [
            create_estate(
                db.session, dealer_id, EstateFields(name=name, city_id=city_id, district=district, address=address)
            ).id
            for name, district, address in specs
        ]
        db.session.commit()
    return ids
