"""Every setting Townhall reads, in one place.

Settings come from ``TOWNHALL_*`` environment variables, then a ``.env`` file in the working
directory, then defaults. Bad values stop start-up with one line naming the variable. Tests
build :class:`Settings` directly instead of touching ``os.environ``.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

PREFIX = "TOWNHALL_"


class SettingsError(ValueError):
    """A setting has a value Townhall cannot use; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///./townhall.db"
    redis_url: str | None = None
    redis_prefix: str = "townhall"
    # TOWNHALL_REDIS_URL names one node of a Redis Cluster (7+); rooms use sharded pub/sub.
    redis_cluster: bool = False
    secret_key: str = field(default="", repr=False)
    public_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    now: datetime | None = None
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ("*",)
    # Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (the reverse proxy's
    # addresses or networks; * for any): each client then counts as its own address.
    forwarded_allow_ips: tuple[str, ...] = ("127.0.0.1",)
    log_level: str = "info"
    log_format: str = "text"  # or json: one object per line (townhall/log_format.py)
    room_opens_minutes_before: int = 15
    replay_window: int = 1000
    ws_max_message_bytes: int = 64 * 1024
    # Bytes sent to one connection and not yet taken by its reader (everything counts).
    ws_send_buffer: int = 512 * 1024
    # Write fan-out frames straight to the socket's transport (uvicorn's websockets-sansio);
    # false: through the ASGI send, one task per socket (kept for comparison in the bench).
    ws_direct_writes: bool = True
    ws_commands_per_second: float = 20.0
    ws_command_burst: int = 40
    ws_junk_limit: int = 5
    presence_ttl_seconds: int = 30
    # Seconds between two presence samples of a room kept for the session report.
    presence_sample_seconds: int = 60
    # New audience identities per client address and minute; a venue's Wi-Fi is one address.
    identities_per_minute: int = 60
    process_name: str = ""

    @property
    def redis_enabled(self) -> bool:
        return bool(self.redis_url)

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def origins(self) -> tuple[str, ...]:
        """Origins allowed to open a WebSocket: the public URL's plus any configured."""
        own = _origin_of(self.public_url)
        return (own, *[o for o in self.allowed_origins if o != own])


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name}: expected true or false, got {raw!r}")


def _parse_int(name: str, raw: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise SettingsError(f"{name}: expected a number {bound}, got {value}")
    return value


def _parse_float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a number, got {raw!r}") from None
    if value <= 0:
        raise SettingsError(f"{name}: expected a positive number, got {raw!r}")
    return value


def _parse_instant(name: str, raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SettingsError(
            f"{name}: expected an ISO 8601 instant such as 2021-12-08T15:50:00+03:00, got {raw!r}"
        ) from None
    if value.tzinfo is None:
        raise SettingsError(f"{name}: the instant needs a UTC offset (e.g. +03:00 or Z): {raw!r}")
    return value.astimezone(UTC)


def _parse_url(name: str, raw: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in schemes or not (parts.netloc or parts.path):
        raise SettingsError(
            f"{name}: expected a URL starting with {' or '.join(schemes)}:, got {raw!r}"
        )
    return raw.strip()


def _parse_list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _parse_peers(name: str, raw: str) -> tuple[str, ...]:
    peers = _parse_list(raw)
    for peer in peers:
        if peer == "*":
            continue
        try:
            ipaddress.ip_network(peer, strict=False)
        except ValueError:
            raise SettingsError(
                f"{name}: expected IP addresses or networks (comma-separated) or *, got {peer!r}"
            ) from None
    return ("*",) if "*" in peers else peers


DATABASE_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg", "postgresql")


def _parse_database_url(name: str, raw: str) -> str:
    url = _parse_url(name, raw, DATABASE_SCHEMES)
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    return url


def read_dotenv(path: Path) -> dict[str, str]:
    """Read ``KEY=value`` lines; comments and blank lines are skipped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, *, dotenv: Path | None = Path(".env")
) -> Settings:
    """Build settings from the environment (then ``.env``, then defaults)."""
    source: dict[str, str] = {}
    if dotenv is not None:
        source.update(read_dotenv(dotenv))
    source.update(os.environ if environ is None else environ)

    def get(key: str) -> str | None:
        value = source.get(PREFIX + key)
        return value if value not in (None, "") else None

    values: dict[str, object] = {}
    known = {f.name.upper() for f in fields(Settings)}
    for key in source:
        if key.startswith(PREFIX) and key.removeprefix(PREFIX) not in known:
            raise SettingsError(f"{key}: unknown setting (known: {', '.join(sorted(known))})")

    if (raw := get("DATABASE_URL")) is not None:
        values["database_url"] = _parse_database_url(PREFIX + "DATABASE_URL", raw)
    if (raw := get("REDIS_URL")) is not None:
        values["redis_url"] = _parse_url(PREFIX + "REDIS_URL", raw, ("redis", "rediss", "unix"))
    if (raw := get("REDIS_CLUSTER")) is not None:
        values["redis_cluster"] = _parse_bool(PREFIX + "REDIS_CLUSTER", raw)
    if (raw := get("REDIS_PREFIX")) is not None:
        values["redis_prefix"] = raw
    if (raw := get("SECRET_KEY")) is not None:
        if len(raw) < 16:
            raise SettingsError(f"{PREFIX}SECRET_KEY: must be at least 16 characters long")
        values["secret_key"] = raw
    if (raw := get("PUBLIC_URL")) is not None:
        values["public_url"] = _parse_url(PREFIX + "PUBLIC_URL", raw, ("http", "https")).rstrip("/")
    if (raw := get("HOST")) is not None:
        values["host"] = raw
    if (raw := get("PORT")) is not None:
        values["port"] = _parse_int(PREFIX + "PORT", raw, minimum=1, maximum=65535)
        if get("PUBLIC_URL") is None:
            host = values.get("host", Settings.host)
            values["public_url"] = f"http://{host}:{values['port']}"
    elif (raw := get("HOST")) is not None and get("PUBLIC_URL") is None:
        values["public_url"] = f"http://{raw}:{Settings.port}"
    if (raw := get("WORKERS")) is not None:
        values["workers"] = _parse_int(PREFIX + "WORKERS", raw, minimum=1, maximum=64)
    if (raw := get("NOW")) is not None:
        values["now"] = _parse_instant(PREFIX + "NOW", raw)
    if (raw := get("ALLOWED_ORIGINS")) is not None:
        for origin in _parse_list(raw):
            _parse_url(PREFIX + "ALLOWED_ORIGINS", origin, ("http", "https"))
        values["allowed_origins"] = tuple(o.rstrip("/") for o in _parse_list(raw))
    if (raw := get("ALLOWED_HOSTS")) is not None:
        values["allowed_hosts"] = _parse_list(raw) or ("*",)
    if (raw := get("FORWARDED_ALLOW_IPS")) is not None:
        values["forwarded_allow_ips"] = _parse_peers(PREFIX + "FORWARDED_ALLOW_IPS", raw)
    if (raw := get("LOG_LEVEL")) is not None:
        level = raw.lower()
        if level not in {"critical", "error", "warning", "info", "debug"}:
            raise SettingsError(f"{PREFIX}LOG_LEVEL: expected debug, info, warning or error")
        values["log_level"] = level
    if (raw := get("LOG_FORMAT")) is not None:
        if raw.lower() not in {"text", "json"}:
            raise SettingsError(f"{PREFIX}LOG_FORMAT: expected text or json")
        values["log_format"] = raw.lower()
    for key, low, high in (
        ("ROOM_OPENS_MINUTES_BEFORE", 0, 24 * 60),
        ("REPLAY_WINDOW", 1, 1_000_000),
        ("WS_MAX_MESSAGE_BYTES", 1024, 16 * 1024 * 1024),
        ("WS_SEND_BUFFER", 16 * 1024, 64 * 1024 * 1024),
        ("WS_COMMAND_BURST", 1, 10_000),
        ("WS_JUNK_LIMIT", 1, 1000),
        ("PRESENCE_TTL_SECONDS", 3, 3600),
        ("PRESENCE_SAMPLE_SECONDS", 5, 3600),
        ("IDENTITIES_PER_MINUTE", 1, 100_000),
    ):
        if (raw := get(key)) is not None:
            values[key.lower()] = _parse_int(PREFIX + key, raw, minimum=low, maximum=high)
    if (raw := get("WS_COMMANDS_PER_SECOND")) is not None:
        values["ws_commands_per_second"] = _parse_float(PREFIX + "WS_COMMANDS_PER_SECOND", raw)
    if (raw := get("WS_DIRECT_WRITES")) is not None:
        values["ws_direct_writes"] = _parse_bool(PREFIX + "WS_DIRECT_WRITES", raw)
    if (raw := get("PROCESS_NAME")) is not None:
        values["process_name"] = raw

    if values.get("workers", 1) > 1 and "redis_url" not in values:  # type: ignore[operator]
        raise SettingsError(
            f"{PREFIX}WORKERS: several processes share live rooms through Redis; "
            f"set {PREFIX}REDIS_URL too"
        )
    if values.get("redis_cluster") and "redis_url" not in values:
        raise SettingsError(
            f"{PREFIX}REDIS_CLUSTER: set {PREFIX}REDIS_URL to a node of the cluster too"
        )
    if "secret_key" not in values:
        # A random key per start is safe but logs everybody out on restart; production sets it.
        values["secret_key"] = secrets.token_urlsafe(32)
    return Settings(**values)  # type: ignore[arg-type]
