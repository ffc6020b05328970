"""docs/protocol.md and docs/asyncapi.yaml stay true to the code.

What the code says is read from the code itself: the commands from ``COMMAND_TYPES``, the server
messages from the typed ``SERVER_MESSAGES`` (and the ``{"type": ...}`` error dicts), the event
names from the ``append_event`` calls of ``townhall.platform`` (followed through the helpers
that pass a name on), the close codes from the ``CLOSE_*`` constants. Adding any of them without
documenting it fails here.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
import yaml

from townhall.realtime import messages

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL_MD = ROOT / "docs" / "protocol.md"
SECURITY_MD = ROOT / "docs" / "security.md"
ASYNCAPI = ROOT / "docs" / "asyncapi.yaml"
PLATFORM = ROOT / "townhall" / "platform"
REALTIME = ROOT / "townhall" / "realtime"
# What every version of the protocol has; the scan below must find at least these.
CORE_SERVER_MESSAGES = {
    "hello",
    "reply",
    "error",
    "pong",
    "room.snapshot",
    "room.resumed",
    "event",
    "presence",
}
CORE_EVENTS = {"room.state_changed", "room.updated", "room.schedule_changed"}


# ---- what the code says --------------------------------------------------------------------


def command_types() -> set[str]:
    return set(messages.COMMAND_TYPES)


def close_codes() -> dict[str, int]:
    return {name: value for name, value in vars(messages).items() if name.startswith("CLOSE_")}


def _trees(folder: Path) -> list[ast.Module]:
    return [ast.parse(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.py"))]


@cache
def server_message_types() -> frozenset[str]:
    """What the server sends: the tags of the typed server messages (``SERVER_MESSAGES``),
    and every ``"type"`` of a dict literal in townhall/realtime (errors, whose fields vary by
    code)."""
    found = {kind.__struct_config__.tag for kind in messages.SERVER_MESSAGES}
    for tree in _trees(REALTIME):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Dict):
                continue
            for key, value in zip(node.keys, node.values, strict=True):
                if (
                    isinstance(key, ast.Constant)
                    and key.value == "type"
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    found.add(value.value)
    return frozenset(found)


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _name_argument(
    call: ast.Call, forwarders: dict[str, tuple[int | None, str]]
) -> ast.expr | None:
    """The expression a call passes as the event name, if it calls a forwarder."""
    callee = _callee(call)
    if callee not in forwarders:
        return None
    position, keyword = forwarders[callee]
    for given in call.keywords:
        if given.arg == keyword:
            return given.value
    if position is not None and len(call.args) > position:
        return call.args[position]
    return None


@cache
def platform_event_names() -> frozenset[str]:
    """Names passed to ``append_event``, directly or through helpers such as ``log.public``."""
    functions = [
        node
        for tree in _trees(PLATFORM)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    # callee -> (position of the name among the call's arguments, keyword of the name)
    forwarders: dict[str, tuple[int | None, str]] = {"append_event": (None, "name")}
    changed = True
    while changed:  # helpers of helpers: repeat until no new forwarder turns up
        changed = False
        for function in functions:
            if function.name in forwarders:
                continue
            positional = [a.arg for a in function.args.posonlyargs + function.args.args]
            if positional[:1] in (["self"], ["cls"]):
                positional = positional[1:]
            keyword_only = [a.arg for a in function.args.kwonlyargs]
            for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
                passed = _name_argument(call, forwarders)
                if isinstance(passed, ast.Name) and passed.id in positional + keyword_only:
                    position = positional.index(passed.id) if passed.id in positional else None
                    forwarders[function.name] = (position, passed.id)
                    changed = True
                    break
    names = set()
    for function in functions:
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
            passed = _name_argument(call, forwarders)
            if isinstance(passed, ast.Constant) and isinstance(passed.value, str):
                names.add(passed.value)
    return frozenset(names)


# ---- what the documents say ----------------------------------------------------------------


@cache
def asyncapi() -> dict[str, Any]:
    return yaml.safe_load(ASYNCAPI.read_text(encoding="utf-8"))


def protocol_md() -> str:
    return PROTOCOL_MD.read_text(encoding="utf-8")


def in_markdown(names: set[str] | frozenset[str]) -> set[str]:
    """The names that protocol.md writes as code (`name`)."""
    text = protocol_md()
    return {name for name in names if f"`{name}`" in text}


def messages_by_type() -> dict[str, dict[str, Any]]:
    """AsyncAPI messages keyed by the ``type`` constant of their payload."""
    found = {}
    for message in asyncapi()["components"]["messages"].values():
        const = message["payload"]["properties"]["type"].get("const")
        assert const not in found, f"two AsyncAPI messages have type {const!r}"
        found[const] = message
    return found


def channel_message_types() -> set[str]:
    """Types of the messages the /ws channel lists (resolving their $refs)."""
    components = asyncapi()["components"]["messages"]
    types = set()
    for entry in asyncapi()["channels"]["live"]["messages"].values():
        key = entry["$ref"].removeprefix("#/components/messages/")
        types.add(components[key]["payload"]["properties"]["type"]["const"])
    return types


def asyncapi_event_names() -> set[str]:
    return set(messages_by_type()["event"]["payload"]["properties"]["name"]["enum"])


# ---- the tests -----------------------------------------------------------------------------


def test_asyncapi_document_is_asyncapi_3_with_one_ws_channel() -> None:
    document = asyncapi()
    assert document["asyncapi"] == "3.0.0"
    assert {name: channel["address"] for name, channel in document["channels"].items()} == {
        "live": "/ws"
    }
    actions = {operation["action"] for operation in document["operations"].values()}
    assert actions == {"send", "receive"}


def test_code_scans_find_the_core_of_the_protocol() -> None:
    assert CORE_SERVER_MESSAGES <= server_message_types()
    assert CORE_EVENTS <= platform_event_names()
    assert {"room.join", "room.leave", "ping"} <= command_types()
    assert close_codes()["CLOSE_TOO_SLOW"] == 4008


def test_protocol_md_names_every_command_message_and_event() -> None:
    names = command_types() | server_message_types() | platform_event_names()
    assert sorted(names - in_markdown(names)) == []


def test_security_md_says_who_receives_every_floor_backstage_and_seat_event() -> None:
    text = SECURITY_MD.read_text(encoding="utf-8")
    names = {
        name
        for name in platform_event_names()
        if name.startswith(("floor.", "backstage.")) or name == "room.people_changed"
    }
    assert {"floor.granted", "backstage.sent", "room.people_changed"} <= names
    assert sorted(name for name in names if f"`{name}`" not in text) == []


def test_asyncapi_has_a_message_for_every_command_and_server_message() -> None:
    expected = command_types() | server_message_types()
    assert sorted(expected - set(messages_by_type())) == []
    assert sorted(expected - channel_message_types()) == []


def test_asyncapi_lists_exactly_the_events_the_platform_logs() -> None:
    assert asyncapi_event_names() == set(platform_event_names())


@pytest.mark.parametrize("name", sorted(close_codes()))
def test_docs_name_every_close_code(name: str) -> None:
    code = str(close_codes()[name])
    for document in (protocol_md(), ASYNCAPI.read_text(encoding="utf-8")):
        assert name in document
        assert re.search(rf"(?<!\d){code}(?!\d)", document), code


@pytest.mark.parametrize("kind", sorted(messages.COMMAND_TYPES))
def test_asyncapi_command_payload_has_exactly_the_struct_fields(kind: str) -> None:
    struct = messages.COMMAND_TYPES[kind]
    fields = msgspec.structs.fields(struct)
    payload = messages_by_type()[kind]["payload"]
    assert payload["additionalProperties"] is False
    assert set(payload["properties"]) == {f.encode_name for f in fields} | {"type"}
    assert set(payload["required"]) == {f.encode_name for f in fields if f.required} | {"type"}


SERVER_STRUCTS = {kind.__struct_config__.tag: kind for kind in messages.SERVER_MESSAGES}


@pytest.mark.parametrize("kind", sorted(SERVER_STRUCTS))
def test_asyncapi_server_payload_has_exactly_the_struct_fields(kind: str) -> None:
    # The server's messages are typed too: the document is checked against the types.
    fields = msgspec.structs.fields(SERVER_STRUCTS[kind])
    payload = messages_by_type()[kind]["payload"]
    assert payload["additionalProperties"] is False
    assert set(payload["properties"]) == {f.encode_name for f in fields} | {"type"}
    always = {f.encode_name for f in fields if f.required}
    if not SERVER_STRUCTS[kind].__struct_config__.omit_defaults:
        always |= {f.encode_name for f in fields}  # defaults are sent too
    assert set(payload["required"]) == always | {"type"}


def _integer_bounds(node: Any, resolve: Any) -> set[tuple[object, object]]:
    """(minimum, maximum) of every integer branch of a JSON schema, $refs resolved."""
    if not isinstance(node, dict):
        return set()
    if "$ref" in node:
        return _integer_bounds(resolve(node["$ref"]), resolve)
    branches = node.get("oneOf") or node.get("anyOf")
    if branches:
        return set().union(*(_integer_bounds(b, resolve) for b in branches))
    types = node.get("type")
    if types == "integer" or (isinstance(types, list) and "integer" in types):
        return {(node.get("minimum"), node.get("maximum"))}
    return set()


@pytest.mark.parametrize("kind", sorted(messages.COMMAND_TYPES))
def test_asyncapi_command_integer_ranges_are_the_structs(kind: str) -> None:
    """Ids and counters carry the ranges the decoder enforces (message.invalid beyond)."""
    [schema], components = msgspec.json.schema_components([messages.COMMAND_TYPES[kind]])
    struct_schema = components[schema["$ref"].rsplit("/", 1)[1]]
    document = asyncapi()

    def of_structs(ref: str) -> Any:
        return components[ref.rsplit("/", 1)[1]]

    def of_document(ref: str) -> Any:
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    payload = messages_by_type()[kind]["payload"]["properties"]
    for name, field_schema in struct_schema["properties"].items():
        if name == "ref":
            continue
        assert _integer_bounds(payload[name], of_document) == _integer_bounds(
            field_schema, of_structs
        ), name


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if "$ref" in node else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def _resolves(document: dict[str, Any], ref: str) -> bool:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_asyncapi_refs_resolve_and_payloads_are_json_schemas() -> None:
    document = asyncapi()
    assert sorted(r for r in _refs(document) if not _resolves(document, r)) == []
    for name, message in document["components"]["messages"].items():
        assert message["name"] == name
        jsonschema.Draft7Validator.check_schema(message["payload"])
