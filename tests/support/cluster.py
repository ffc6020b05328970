"""A throwaway three-node Redis Cluster on spare ports of 127.0.0.1 (no replicas), made with
``redis-server --cluster-enabled yes`` and ``redis-cli --cluster create``. Redis 7 or later
(sharded pub/sub)."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from pathlib import Path

import redis.asyncio as redis
from redis.exceptions import RedisError

from .servers import POLL, RedisServer, free_port


def bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def node_port() -> int:
    """A free port whose cluster bus port (10,000 higher) is free too."""
    for _ in range(200):
        port = free_port()
        if port <= 55535 and bindable(port + 10000):
            return port
    raise AssertionError("no free port pair for a cluster node")


CREATE_OPTIONS = ("--cluster-replicas", "0", "--cluster-yes")


class ClusterNode(RedisServer):
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
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            str(self.workdir / "nodes.conf"),
            "--cluster-node-timeout",
            "5000",
        ]
        self._spawn(argv, env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}, cwd=self.workdir)


class LocalCluster:
    def __init__(self, *, workdir: Path, nodes: int = 3) -> None:
        self.nodes = [
            ClusterNode(workdir=workdir, name=f"redis-node-{n}", port=node_port())
            for n in range(nodes)
        ]

    @property
    def url(self) -> str:
        """One node's URL: a cluster client learns the others from it."""
        return f"redis://127.0.0.1:{self.nodes[0].port}"

    async def start(self, within: float = 30.0) -> None:
        for node in self.nodes:
            node.start()
        await asyncio.gather(*(node.ready() for node in self.nodes))
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        created = await asyncio.to_thread(
            subprocess.run,
            [
                "redis-cli",
                "--cluster",
                "create",
                *addresses,
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert created.returncode == 0, created.stdout + created.stderr
        deadline = time.monotonic() + within
        while not all(await asyncio.gather(*(self._ok(node.port) for node in self.nodes))):
            if time.monotonic() > deadline:
                raise AssertionError(f"cluster not ok within {within}s:\n{created.stdout}")
            await asyncio.sleep(POLL)

    @staticmethod
    async def _ok(port: int) -> bool:
        client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
        try:
            info = await client.cluster("info")
        except (RedisError, OSError):
            return False
        finally:
            await client.aclose()
        state = info.get("cluster_state") if isinstance(info, dict) else None
        return state == "ok" and int(info.get("cluster_known_nodes", 0)) == 3

    async def owner_of(self, channel: str) -> int:
        """The port of the node that owns ``channel``'s hash slot."""
        client = redis.Redis(host="127.0.0.1", port=self.nodes[0].port)
        try:
            slot = await client.cluster("keyslot", channel)
            for start, end, primary, *_ in await client.cluster("slots"):
                if start <= slot <= end:
                    return int(primary[1])
        finally:
            await client.aclose()
        raise AssertionError(f"no node owns the slot of {channel}")

    async def sharded_subscribers(self, channel: str) -> dict[int, tuple[int, int]]:
        """Per node port: (sharded subscribers, classic subscribers) of ``channel``."""
        found = {}
        for node in self.nodes:
            client = redis.Redis(host="127.0.0.1", port=node.port)
            try:
                sharded = await client.execute_command("PUBSUB", "SHARDNUMSUB", channel)
                classic = await client.execute_command("PUBSUB", "NUMSUB", channel)
            finally:
                await client.aclose()
            found[node.port] = (int(sharded[1]), int(classic[1]))
        return found

    def kill(self) -> None:
        for node in self.nodes:
            node.kill()
