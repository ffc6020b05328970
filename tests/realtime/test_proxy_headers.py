"""Behind a reverse proxy: the client address is the one the proxy forwards, but only when the
request comes from a peer listed in ``TOWNHALL_FORWARDED_ALLOW_IPS``.

What depends on it: new audience identities are limited per client address and minute. Behind
a trusted proxy every person has a bucket of their own; from an untrusted peer the forwarded
header is ignored and every request counts against that peer's single bucket (a client cannot
claim a fresh address to escape its limit).
"""

from __future__ import annotations

import httpx
import pytest
from support.stack import Stack
from support.summit import EVENT

JOIN = f"/api/events/{EVENT}/participants"
# (client address the proxy forwards) of five joins in a row; the limit is 2 per minute.
FORWARDED = ["192.0.2.10", "192.0.2.10", "198.51.100.20", "203.0.113.30", "192.0.2.10"]


@pytest.mark.parametrize(
    ("allowed", "statuses"),
    [
        # The test client connects from 127.0.0.1, as a proxy on the same machine would.
        ("127.0.0.1", [201, 201, 201, 201, 429]),
        ("10.0.0.0/8, 127.0.0.0/8", [201, 201, 201, 201, 429]),
        # The proxy is elsewhere: 127.0.0.1 is an ordinary client, its header ignored.
        ("192.0.2.1", [201, 201, 429, 429, 429]),
        ("10.0.0.0/8", [201, 201, 429, 429, 429]),
    ],
    ids=["trusted-address", "trusted-network", "untrusted-address", "untrusted-network"],
)
async def test_identity_buckets_follow_trusted_forwarded_addresses(
    embedded: Stack, allowed: str, statuses: list[int]
) -> None:
    server = embedded.server(
        "a",
        settings={
            "TOWNHALL_FORWARDED_ALLOW_IPS": allowed,
            "TOWNHALL_IDENTITIES_PER_MINUTE": "2",
        },
    )
    await embedded.start(server)
    answers = []
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0, trust_env=False) as http:
        for address in FORWARDED:
            response = await http.post(
                JOIN,
                json={"display_name": "Proxied Pat"},
                headers={"Origin": server.origin, "X-Forwarded-For": address},
            )
            answers.append(response.status_code)

    assert answers == statuses
