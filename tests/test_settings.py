"""Settings: TOWNHALL_* variables, then .env, then defaults; bad values fail fast by name."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from townhall.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent
SECRET = "correct-horse-battery-staple"


def load(**variables: str) -> Settings:
    return load_settings({f"TOWNHALL_{k}": v for k, v in variables.items()}, dotenv=None)


def test_load_settings_defaults_without_variables() -> None:
    settings = load()

    assert replace(settings, secret_key="") == Settings()
    assert settings == Settings(
        database_url="sqlite+aiosqlite:///./townhall.db",
        redis_url=None,
        redis_prefix="townhall",
        redis_cluster=False,
        secret_key=settings.secret_key,
        public_url="http://127.0.0.1:8000",
        host="127.0.0.1",
        port=8000,
        workers=1,
        now=None,
        allowed_origins=(),
        allowed_hosts=("*",),
        forwarded_allow_ips=("127.0.0.1",),
        log_level="info",
        log_format="text",
        room_opens_minutes_before=15,
        replay_window=1000,
        ws_max_message_bytes=65536,
        ws_send_buffer=512 * 1024,
        ws_commands_per_second=20.0,
        ws_command_burst=40,
        ws_junk_limit=5,
        presence_ttl_seconds=30,
        presence_sample_seconds=60,
        process_name="",
    )


def test_secret_key_unset_is_random_per_load() -> None:
    first, second = load().secret_key, load().secret_key

    assert len(first) >= 32 and first != second


def test_load_settings_every_variable_given() -> None:
    settings = load(
        DATABASE_URL="postgresql://townhall@db.internal/townhall",
        REDIS_URL="redis://cache.internal:6379/2",
        REDIS_PREFIX="th-prod",
        REDIS_CLUSTER="true",
        SECRET_KEY=SECRET,
        PUBLIC_URL="https://events.example.org/",
        HOST="0.0.0.0",
        PORT="9000",
        WORKERS="4",
        NOW="2021-12-08T15:50:00+03:00",
        ALLOWED_ORIGINS="https://a.example.org/, https://b.example.org",
        ALLOWED_HOSTS="events.example.org, 127.0.0.1",
        FORWARDED_ALLOW_IPS="10.0.0.0/8, 192.0.2.7,::1",
        LOG_LEVEL="DEBUG",
        LOG_FORMAT="JSON",
        ROOM_OPENS_MINUTES_BEFORE="30",
        REPLAY_WINDOW="500",
        WS_MAX_MESSAGE_BYTES="2048",
        WS_SEND_BUFFER="65536",
        WS_DIRECT_WRITES="false",
        WS_COMMANDS_PER_SECOND="2.5",
        WS_COMMAND_BURST="10",
        WS_JUNK_LIMIT="3",
        PRESENCE_TTL_SECONDS="60",
        PRESENCE_SAMPLE_SECONDS="30",
        PROCESS_NAME="web-1",
    )

    assert settings == Settings(
        database_url="postgresql+asyncpg://townhall@db.internal/townhall",
        redis_url="redis://cache.internal:6379/2",
        redis_prefix="th-prod",
        redis_cluster=True,
        secret_key=SECRET,
        public_url="https://events.example.org",
        host="0.0.0.0",
        port=9000,
        workers=4,
        now=datetime(2021, 12, 8, 12, 50, tzinfo=UTC),
        allowed_origins=("https://a.example.org", "https://b.example.org"),
        allowed_hosts=("events.example.org", "127.0.0.1"),
        forwarded_allow_ips=("10.0.0.0/8", "192.0.2.7", "::1"),
        log_level="debug",
        log_format="json",
        room_opens_minutes_before=30,
        replay_window=500,
        ws_max_message_bytes=2048,
        ws_send_buffer=65536,
        ws_direct_writes=False,
        ws_commands_per_second=2.5,
        ws_command_burst=10,
        ws_junk_limit=3,
        presence_ttl_seconds=60,
        presence_sample_seconds=30,
        process_name="web-1",
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://db/townhall"),
        ("DATABASE_URL", "townhall.db"),
        ("REDIS_URL", "http://cache:6379"),
        ("SECRET_KEY", "too-short"),
        ("PUBLIC_URL", "ftp://events.example.org"),
        ("PUBLIC_URL", "events.example.org"),
        ("PORT", "abc"),
        ("PORT", "0"),
        ("PORT", "65536"),
        ("WORKERS", "0"),
        ("WORKERS", "65"),
        ("NOW", "yesterday"),
        ("NOW", "2021-12-08T15:50:00"),
        ("ALLOWED_ORIGINS", "https://ok.example.org,not-a-url"),
        ("FORWARDED_ALLOW_IPS", "10.0.0.1, proxy.internal"),
        ("LOG_LEVEL", "loud"),
        ("LOG_FORMAT", "xml"),
        ("REDIS_CLUSTER", "maybe"),
        ("ROOM_OPENS_MINUTES_BEFORE", "-1"),
        ("ROOM_OPENS_MINUTES_BEFORE", "1441"),
        ("REPLAY_WINDOW", "0"),
        ("WS_MAX_MESSAGE_BYTES", "1023"),
        ("WS_SEND_BUFFER", "1000"),
        ("WS_COMMANDS_PER_SECOND", "fast"),
        ("WS_COMMANDS_PER_SECOND", "0"),
        ("WS_COMMAND_BURST", "0"),
        ("WS_JUNK_LIMIT", "1001"),
        ("PRESENCE_TTL_SECONDS", "2"),
        ("PRESENCE_SAMPLE_SECONDS", "4"),
    ],
)
def test_invalid_value_error_names_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load(**{name: value})

    message = str(caught.value)
    assert message.startswith(f"TOWNHALL_{name}:")
    assert "\n" not in message


def test_now_with_offset_converted_to_utc() -> None:
    now = load(NOW="2021-12-08T15:50:00+03:00").now

    assert now == datetime(2021, 12, 8, 12, 50, tzinfo=UTC)
    assert now is not None and now.tzinfo is UTC


def test_now_z_suffix_accepted() -> None:
    now = load(NOW="2021-12-08T12:50:00Z").now

    assert now is not None and now.isoformat() == "2021-12-08T12:50:00+00:00"


def test_now_without_offset_refused_asking_for_one() -> None:
    with pytest.raises(SettingsError, match=r"^TOWNHALL_NOW: .*UTC offset"):
        load(NOW="2021-12-08T15:50:00")


def test_now_empty_means_real_clock() -> None:
    # `make run TOWNHALL_NOW=` relies on this.
    assert load(NOW="").now is None


def test_empty_values_count_as_unset() -> None:
    settings = load(PORT="", DATABASE_URL="", LOG_LEVEL="")

    assert replace(settings, secret_key="") == Settings()


def test_port_without_public_url_derives_public_url() -> None:
    settings = load(HOST="0.0.0.0", PORT="9000")

    assert (settings.host, settings.port, settings.public_url) == (
        "0.0.0.0",
        9000,
        "http://0.0.0.0:9000",
    )


def test_port_with_public_url_keeps_public_url() -> None:
    settings = load(PORT="9000", PUBLIC_URL="https://events.example.org")

    assert (settings.port, settings.public_url) == (9000, "https://events.example.org")


def test_unknown_variable_refused_by_name() -> None:
    with pytest.raises(SettingsError, match=r"^TOWNHALL_PROT: unknown setting"):
        load_settings({"TOWNHALL_PROT": "9000"}, dotenv=None)


def test_other_variables_ignored() -> None:
    settings = load_settings({"PORT": "1", "HOME": "/root", "townhall_port": "1"}, dotenv=None)

    assert settings.port == 8000


def test_dotenv_file_read(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# local overrides\n"
        "\n"
        "TOWNHALL_PORT=9001\n"
        "TOWNHALL_SECRET_KEY='" + SECRET + "'\n"
        'TOWNHALL_LOG_LEVEL = "warning"\n'
        "not a setting line\n",
        encoding="utf-8",
    )

    settings = load_settings({}, dotenv=dotenv)

    assert (settings.port, settings.public_url, settings.secret_key, settings.log_level) == (
        9001,
        "http://127.0.0.1:9001",
        SECRET,
        "warning",
    )


def test_environment_wins_over_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("TOWNHALL_PORT=9001\nTOWNHALL_LOG_LEVEL=debug\n", encoding="utf-8")

    settings = load_settings({"TOWNHALL_PORT": "9002"}, dotenv=dotenv)

    assert (settings.port, settings.log_level) == (9002, "debug")


def test_dotenv_unknown_variable_refused(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("TOWNHALL_DATABASE=sqlite\n", encoding="utf-8")

    with pytest.raises(SettingsError, match=r"^TOWNHALL_DATABASE: unknown setting"):
        load_settings({}, dotenv=dotenv)


def test_dotenv_missing_file_ignored(tmp_path: Path) -> None:
    settings = load_settings({}, dotenv=tmp_path / "absent.env")

    assert replace(settings, secret_key="") == Settings()


def test_secret_key_not_in_repr() -> None:
    settings = load(SECRET_KEY=SECRET)

    assert settings.secret_key == SECRET
    assert SECRET not in repr(settings) and SECRET not in str(settings)


def test_short_secret_key_error_does_not_print_it() -> None:
    with pytest.raises(SettingsError) as caught:
        load(SECRET_KEY="hunter2-secret")

    assert "hunter2" not in str(caught.value)


def test_env_example_lists_every_setting_with_valid_examples() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    # Each setting appears once as a commented-out assignment of an example value.
    examples = dict(
        line.removeprefix("# ").partition("=")[::2]
        for line in lines
        if line.startswith("# TOWNHALL_") and "=" in line
    )

    assert sorted(examples) == sorted(f"TOWNHALL_{f.name.upper()}" for f in fields(Settings))
    load_settings(examples, dotenv=None)


def test_cli_bad_setting_exits_2_naming_variable(tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TOWNHALL_")}
    environ["TOWNHALL_PORT"] = "abc"

    # cwd is an empty directory, so no .env is read.
    result = subprocess.run(
        [sys.executable, "-m", "townhall", "serve"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert (result.returncode, result.stdout) == (2, "")
    [line] = result.stderr.splitlines()
    assert line.startswith("townhall: invalid setting: TOWNHALL_PORT: ")


def test_several_workers_without_redis_are_refused() -> None:
    from townhall.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as caught:
        load_settings({"TOWNHALL_WORKERS": "2"}, dotenv=None)
    assert str(caught.value).startswith("TOWNHALL_WORKERS: ")
    assert (
        load_settings(
            {"TOWNHALL_WORKERS": "2", "TOWNHALL_REDIS_URL": "redis://127.0.0.1:6379/0"}, dotenv=None
        ).workers
        == 2
    )


def test_redis_cluster_needs_a_node_url() -> None:
    from townhall.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as caught:
        load_settings({"TOWNHALL_REDIS_CLUSTER": "true"}, dotenv=None)
    assert str(caught.value) == (
        "TOWNHALL_REDIS_CLUSTER: set TOWNHALL_REDIS_URL to a node of the cluster too"
    )
    settings = load_settings(
        {"TOWNHALL_REDIS_CLUSTER": "yes", "TOWNHALL_REDIS_URL": "redis://127.0.0.1:7000"},
        dotenv=None,
    )
    assert (settings.redis_cluster, settings.redis_url) == (True, "redis://127.0.0.1:7000")
