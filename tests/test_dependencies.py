"""No installed network-facing dependency is older than the fix of a known advisory."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.licenses import canonicalize_license_expression

ADVISORIES = Path(__file__).resolve().parent.parent / "security" / "advisories.toml"
WATCHED = {"starlette", "python-multipart", "jinja2", "uvicorn", "h11", "websockets", "redis"}


def _release(text: str) -> tuple[int, ...]:
    """The numeric release of a version: "3.1.5rc1" -> (3, 1, 5)."""
    parts = []
    for piece in text.split("."):
        digits = re.match(r"\d*", piece)[0]
        if not digits:
            break
        parts.append(int(digits))
        if digits != piece:
            break
    return tuple(parts)


def test_release_parsing_orders_versions() -> None:
    assert _release("0.0.20") > _release("0.0.18") > _release("0.0.7")
    assert _release("1.10.0") > _release("0.49.1")
    assert _release("3.1.6") > _release("3.1.5rc1")


def test_advisory_list_covers_every_watched_package() -> None:
    advisories = tomllib.loads(ADVISORIES.read_text())["advisory"]
    assert {a["package"] for a in advisories} == WATCHED


def test_installed_versions_have_every_known_fix() -> None:
    advisories = tomllib.loads(ADVISORIES.read_text())["advisory"]
    vulnerable = []
    for advisory in advisories:
        try:
            installed = version(advisory["package"])
        except PackageNotFoundError:
            vulnerable.append(f"{advisory['package']} is not installed")
            continue
        if _release(installed) < _release(advisory["fixed"]):
            vulnerable.append(
                f"{advisory['package']} {installed} < {advisory['fixed']} ({advisory['id']}: "
                f"{advisory['summary']})"
            )
    assert vulnerable == []


def test_project_licence_is_an_spdx_expression() -> None:
    """PEP 639: ``project.license`` is an SPDX expression (a table makes setuptools warn on
    every install), which setuptools reads from version 77 on."""
    project = tomllib.loads((ADVISORIES.parent.parent / "pyproject.toml").read_text())
    licence = project["project"]["license"]
    assert (
        canonicalize_license_expression(licence) if isinstance(licence, str) else licence,
        project["build-system"]["requires"],
    ) == ("AGPL-3.0-or-later", ["setuptools>=77"])
