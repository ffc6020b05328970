"""nginx from Debian's package in front of server processes, configured from the very template
``compose.yaml`` mounts (``deploy/nginx/townhall.conf.template``), on 127.0.0.1.

:class:`Nginx` looks like a server to the clients (``url``, ``ws_url``, ``origin``): identities
are made and WebSockets opened through it. ``scripts/ensure-services.sh`` installs nginx.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import time
from pathlib import Path

import httpx

from .servers import POLL, _Process, free_port

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "townhall.conf.template"


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise AssertionError("nginx is missing: scripts/ensure-services.sh installs it")
    return found


def render(template: str, values: dict[str, str]) -> str:
    """As the official image's envsubst does, for the variables given only."""
    for name, value in values.items():
        template = template.replace("${" + name + "}", value)
    return template


class Nginx(_Process):
    def __init__(
        self, *, workdir: Path, upstreams: list[str], name: str = "nginx", port: int | None = None
    ) -> None:
        assert len(upstreams) == 2, "the template names two upstream servers"
        self.name = name
        self.port = port or free_port()
        self.upstreams = upstreams
        self.workdir = workdir / name
        for sub in ("tmp", "logs"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        self.log_path = self.workdir / "nginx.log"
        self.access_log = self.workdir / "logs" / "access.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    public_url = url
    origin = url

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def write_config(self) -> Path:
        site = self.workdir / "townhall.conf"
        site.write_text(
            render(
                TEMPLATE.read_text(encoding="utf-8"),
                {
                    "TOWNHALL_UPSTREAM_1": self.upstreams[0],
                    "TOWNHALL_UPSTREAM_2": self.upstreams[1],
                    "NGINX_PORT": f"127.0.0.1:{self.port}",
                },
            ),
            encoding="utf-8",
        )
        tmp = self.workdir / "tmp"
        main = self.workdir / "nginx.conf"
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the temp dirs
        main.write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {self.workdir}/nginx.pid;\n"
            f"error_log {self.log_path} info;\n"
            "events { worker_connections 4096; }\n"
            "http {\n"
            f"    access_log {self.access_log};\n"
            f"    client_body_temp_path {tmp}/body;\n"
            f"    proxy_temp_path {tmp}/proxy;\n"
            f"    fastcgi_temp_path {tmp}/fastcgi;\n"
            f"    uwsgi_temp_path {tmp}/uwsgi;\n"
            f"    scgi_temp_path {tmp}/scgi;\n"
            f"    include {site};\n"
            "}\n",
            encoding="utf-8",
        )
        return main

    def start(self) -> None:
        config = self.write_config()
        argv = [
            nginx_binary(),
            "-p",
            str(self.workdir),
            "-e",
            str(self.log_path),
            "-c",
            str(config),
        ]
        self._spawn(argv, env=os.environ, cwd=self.workdir)

    def kill(self) -> None:
        """The master and its workers (they share its session)."""
        if self.running:
            assert self.popen is not None
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    async def ready(self, within: float = 20.0) -> None:
        """Wait until ``/livez`` answers through the proxy."""
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0, trust_env=False) as http:
            while time.monotonic() < deadline:
                if not self.running:
                    raise self._dead("exited before answering")
                try:
                    if (await http.get("/livez")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(POLL)
        raise self._dead(f"did not answer /livez within {within}s")
