"""Real processes on 127.0.0.1: Townhall servers (``python -m townhall serve``) and throwaway
``redis-server`` instances.

Every wait is bounded and polls for the condition it waits for; a process that dies or never
answers fails with the tail of its log. Processes run in their own session (``SIGKILL`` reaches
only them) and in their own working directory (no stray ``.env`` is read).
"""

from __future__ import annotations

import asyncio
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis.asyncio as redis
from redis.exceptions import RedisError

POLL = 0.05


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU of a process (this one by default), from ``/proc`` or getrusage."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Process:
    """A child process with a log file; ``kill`` and ``stop`` never wait unboundedly."""

    name: str
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def _spawn(self, argv: list[str], *, env: Mapping[str, str], cwd: Path) -> None:
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        with self.log_path.open("ab") as log:
            log.write(f"---- start {' '.join(argv)}\n".encode())
            self.popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a machine dies."""
        if self.running:
            assert self.popen is not None
            self.popen.send_signal(signal.SIGKILL)
            self.popen.wait(timeout=10)

    async def stop(self, within: float = 10.0) -> int | None:
        """SIGTERM, wait for the exit (SIGKILL after ``within`` seconds); the exit status."""
        if self.popen is None:
            return None
        if self.running:
            self.popen.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.popen.wait, within)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.popen.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def _dead(self, what: str) -> AssertionError:
        code = self.popen.returncode if self.popen is not None else None
        return AssertionError(f"{self.name} {what} (exit {code}); log tail:\n{self.log_tail()}")


class ServerProcess(_Process):
    """``python -m townhall serve`` with explicit ``TOWNHALL_*`` settings.

    The test process's own ``TOWNHALL_*`` variables are not passed on (the server refuses
    unknown ones, and tests must not depend on them).
    """

    def __init__(
        self,
        *,
        name: str,
        workdir: Path,
        database_url: str,
        secret_key: str,
        redis_url: str | None = None,
        redis_prefix: str | None = None,
        now: str | None = None,
        port: int | None = None,
        public_url: str | None = None,
        allowed_origins: tuple[str, ...] = (),
        settings: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.public_url = public_url or self.url
        self.workdir = workdir / name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "server.log"
        self.settings: dict[str, str] = {
            "TOWNHALL_DATABASE_URL": database_url,
            "TOWNHALL_SECRET_KEY": secret_key,
            "TOWNHALL_PORT": str(self.port),
            "TOWNHALL_PUBLIC_URL": self.public_url,
            "TOWNHALL_PROCESS_NAME": name,
        }
        if redis_url:
            self.settings["TOWNHALL_REDIS_URL"] = redis_url
        if redis_prefix:
            self.settings["TOWNHALL_REDIS_PREFIX"] = redis_prefix
        if now:
            self.settings["TOWNHALL_NOW"] = now
        if allowed_origins:
            self.settings["TOWNHALL_ALLOWED_ORIGINS"] = ",".join(allowed_origins)
        self.settings.update(settings or {})

    @property
    def origin(self) -> str:
        """The Origin browsers on this server's pages send."""
        return origin_of(self.public_url)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
        env.update(self.settings, PYTHONUNBUFFERED="1")
        self._spawn([sys.executable, "-m", "townhall", "serve"], env=env, cwd=self.workdir)

    async def ready(self, within: float = 30.0) -> dict[str, object]:
        """Wait until ``/healthz`` answers; its body."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0, trust_env=False) as http:
            while time.monotonic() < deadline:
                if not self.running:
                    raise self._dead("exited before answering /healthz")
                try:
                    response = await http.get("/healthz")
                    if response.status_code == 200:
                        return response.json()
                except httpx.TransportError:
                    pass
                await asyncio.sleep(POLL)
        raise self._dead(f"did not answer /healthz within {within}s")

    async def health(self) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.url, timeout=5.0, trust_env=False) as http:
            response = await http.get("/healthz")
        assert response.status_code == 200, (response.status_code, response.text)
        return response.json()

    async def wait_health(
        self, condition: Callable[[dict[str, Any]], bool], what: str, within: float = 10.0
    ) -> dict[str, Any]:
        """Poll ``/healthz`` until ``condition`` holds of its body; that body."""
        deadline = time.monotonic() + within
        while not condition(health := await self.health()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: not {what} within {within}s: {health}")
            await asyncio.sleep(0.1)
        return health


class RedisServer(_Process):
    """A ``redis-server`` of its own (no persistence), which tests may kill and restart on
    the same port. Never the shared one on 6379."""

    def __init__(self, *, workdir: Path, name: str = "redis", port: int | None = None) -> None:
        self.name = name
        self.port = port or free_port()
        self.workdir = workdir / name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
        ]
        self._spawn(argv, env=os.environ, cwd=self.workdir)

    async def ready(self, within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
        try:
            while time.monotonic() < deadline:
                if not self.running:
                    raise self._dead("exited before answering PING")
                try:
                    if await client.ping():
                        return
                except (RedisError, OSError):
                    pass
                await asyncio.sleep(POLL)
        finally:
            await client.aclose()
        raise self._dead(f"did not answer PING within {within}s")
