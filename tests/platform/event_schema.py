"""Check room events made by the real domain code against docs/asyncapi.yaml's event message."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ASYNCAPI = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


@cache
def _schema() -> dict[str, Any]:
    document = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    payload = document["components"]["messages"]["event"]["payload"]
    return {**payload, "components": document["components"]}


def check_event(event: Any) -> None:
    """Raise if ``event`` (a LoggedEvent), as the wire carries it, breaks the AsyncAPI schema."""
    message = {
        "type": "event",
        "room": event.room_id,
        "epoch": event.epoch,
        "seq": event.seq,
        "name": event.name,
        "data": json.loads(json.dumps(event.data)),
    }
    jsonschema.validate(message, _schema())
