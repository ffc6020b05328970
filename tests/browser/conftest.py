"""Browser journeys: a real ``townhall serve`` process driven by headless Chromium.

``live_server`` starts ``townhall serve --setup`` (migrations and the Summit programme in a
fresh SQLite file, the event clock pinned with ``TOWNHALL_NOW``) on a free port and stops it
after the test. A module changes the environment by overriding ``live_server_env``; a test
that needs several servers (or different settings per server) calls ``start_live_server``.
Every test in this directory is marked ``browser``.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright

HERE = Path(__file__).resolve().parent
TOWNHALL = Path(sys.executable).with_name("townhall")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SUMMIT = "mayors-summit-2021"
DEFAULT_NOW = "2021-12-08T15:50:00+03:00"  # ten minutes before Thematic workshop 1
START_TIMEOUT = 30.0


@dataclass
class LiveServer:
    """A running ``townhall serve`` process and what a test needs to talk to it."""

    url: str
    database_url: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] = field(repr=False)

    def get_json(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=5) as response:
            return json.load(response)

    def room_id(self, title_start: str, event: str = SUMMIT) -> int:
        """The live room of the session whose title starts with ``title_start``."""
        sessions = self.get_json(f"/api/events/{event}/programme")["sessions"]
        rooms = [s["room"] for s in sessions if s["title"].startswith(title_start)]
        assert len(rooms) == 1 and rooms[0] is not None, (title_start, sessions)
        return rooms[0]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_healthy(server: LiveServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"townhall serve exited with {server.process.returncode}:\n{server.log()}"
            )
        try:
            if server.get_json("/healthz").get("ok"):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"townhall serve was not healthy within {START_TIMEOUT} s:\n{server.log()}")


def launch_server(directory: Path, overrides: Mapping[str, str] | None = None) -> LiveServer:
    """Start a server in ``directory`` (its SQLite file, log and working directory)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    env.update(
        TOWNHALL_DATABASE_URL=f"sqlite+aiosqlite:///{directory / 't.db'}",
        TOWNHALL_PORT=str(port),
        TOWNHALL_NOW=DEFAULT_NOW,
        TOWNHALL_SECRET_KEY=secrets.token_urlsafe(24),
        TOWNHALL_LOG_LEVEL="warning",
    )
    env.update(overrides or {})
    log_path = directory / "server.log"
    with log_path.open("wb") as log:
        # The working directory is the test's own: no developer's .env is read.
        process = subprocess.Popen(
            [str(TOWNHALL), "serve", "--setup"],
            cwd=directory,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = LiveServer(
        url=f"http://127.0.0.1:{port}",
        database_url=env["TOWNHALL_DATABASE_URL"],
        env=env,
        log_path=log_path,
        process=process,
    )
    _wait_until_healthy(server)
    return server


@pytest.fixture
def start_live_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., LiveServer]]:
    """``start(overrides={...})`` starts one more server; all are stopped after the test."""
    started: list[LiveServer] = []

    def start(overrides: Mapping[str, str] | None = None) -> LiveServer:
        server = launch_server(tmp_path_factory.mktemp("live-server"), overrides)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def live_server_env() -> dict[str, str]:
    """Environment overrides for ``live_server``; override this fixture in a test module."""
    return {}


@pytest.fixture
def live_server(
    start_live_server: Callable[..., LiveServer], live_server_env: dict[str, str]
) -> LiveServer:
    return start_live_server(live_server_env)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: install Chromium (make test does)"
    return str(CHROMIUM)


@pytest.fixture(scope="session")
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    """One headless Chromium per run; each test opens its own contexts (cookie jars)."""
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=chromium_path, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)
