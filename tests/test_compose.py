"""``compose.yaml`` against the Compose Specification's JSON schema (vendored, offline: no
Docker engine runs here), and the topology it describes: app processes of one image reachable
only on the backend network, nginx in front with the template the topology tests run, and the
app believing forwarded headers from the proxy's address alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from jsonschema import Draft7Validator

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests" / "data" / "compose-spec.schema.json"
TEMPLATE = ROOT / "deploy" / "nginx" / "townhall.conf.template"


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)

    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in Draft7Validator(schema).iter_errors(compose())
    ]

    assert errors == []


def test_schema_refuses_what_compose_refuses() -> None:
    # The vendored schema does check: a misspelt key and a bad condition are errors.
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = compose()
    broken["services"]["proxy"]["port"] = ["80:80"]
    app = broken["services"]["app-1"]  # a copy: the apps share one depends_on (an alias)
    app["depends_on"] = {**app["depends_on"], "migrate": {"condition": "service_done"}}

    paths = sorted(
        "/".join(map(str, e.absolute_path)) for e in Draft7Validator(schema).iter_errors(broken)
    )

    assert paths == ["services/app-1/depends_on", "services/proxy"]


def test_topology_proxy_in_front_of_two_apps_of_one_image() -> None:
    services = compose()["services"]
    apps = {name: s for name, s in services.items() if s.get("command") == ["townhall", "serve"]}
    proxy = services["proxy"]
    proxy_address = proxy["networks"]["backend"]["ipv4_address"]

    assert sorted(apps) == ["app-1", "app-2"]
    assert {s["image"] for s in apps.values()} == {"townhall:local"}
    assert {name: "ports" in s for name, s in services.items()} == {
        "postgres": False,
        "redis": False,
        "migrate": False,
        "app-1": False,
        "app-2": False,
        "proxy": True,
    }
    assert {
        name: (
            s["environment"]["TOWNHALL_FORWARDED_ALLOW_IPS"],
            s["environment"]["TOWNHALL_PROCESS_NAME"],
        )
        for name, s in apps.items()
    } == {"app-1": (proxy_address, "app-1"), "app-2": (proxy_address, "app-2")}
    assert proxy["image"].split(":")[0] == "nginx"  # the official image
    assert proxy["volumes"] == [
        "./deploy/nginx/townhall.conf.template:/etc/nginx/templates/townhall.conf.template:ro"
    ]
    assert proxy["environment"] == {
        "NGINX_PORT": "80",
        "TOWNHALL_UPSTREAM_1": "app-1:8000",
        "TOWNHALL_UPSTREAM_2": "app-2:8000",
    }
    probe = "urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=3)"
    assert {name: s["healthcheck"]["test"][-1] for name, s in apps.items()} == {
        name: f"import urllib.request; {probe}" for name in apps
    }


def test_proxy_template_forwards_websockets_and_client_addresses() -> None:
    template = TEMPLATE.read_text(encoding="utf-8")
    variables = set(re.findall(r"\$\{([A-Z0-9_]+)\}", template))
    headers = dict(re.findall(r"proxy_set_header (\S+) ([^;]+);", template))

    assert variables == {"TOWNHALL_UPSTREAM_1", "TOWNHALL_UPSTREAM_2", "NGINX_PORT"}
    assert headers == {
        "Host": "$http_host",
        "X-Forwarded-For": "$remote_addr",
        "X-Forwarded-Proto": "$scheme",
        "X-Request-ID": "$request_id",
        "Upgrade": "$http_upgrade",
        "Connection": "''",
    }
