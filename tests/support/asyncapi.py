"""The live protocol's AsyncAPI document as a test oracle: what clients received must be what
``docs/asyncapi.yaml`` says the server sends."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import yaml

from .clients import Client

ASYNCAPI = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.yaml"


def off_the_document(clients: list[Client]) -> list[tuple[str, str, str]]:
    """Every message the clients got that breaks its docs/asyncapi.yaml payload schema:
    (client, message type, what is wrong). Snapshots are checked as clients hold them, with
    ``mine`` laid over ``state``."""
    document = yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))
    by_type = {
        m["payload"]["properties"]["type"]["const"]: m["payload"]
        for m in document["components"]["messages"].values()
    }
    problems = []
    for client in clients:
        for message in client.messages:
            schema = {**by_type[message["type"]], "components": document["components"]}
            try:
                jsonschema.validate(message, schema)
            except jsonschema.ValidationError as exc:
                problems.append((client.name, message["type"], exc.message[:200]))
    return problems
