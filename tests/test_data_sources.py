"""The test suite is self-contained: what it reads lives in the repository, with its source.

A clone of the repository alone runs ``make test``; every vendored file under ``tests/data``
names its origin and licence in ``tests/data/SOURCES.md``.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
PARENTS = re.compile(r"Path\(__file__\)\.resolve\(\)\.parents\[(\d+)\]((?:\.parent)*)")


def test_data_files_each_name_their_source() -> None:
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| `([^`]+)` \|", sources, flags=re.MULTILINE))
    present = {
        str(path.relative_to(DATA))
        for path in DATA.rglob("*")
        if path.is_file() and path.name != "SOURCES.md"
    }

    assert listed == present


def test_tests_read_nothing_outside_the_repository() -> None:
    escapes = []
    for module in sorted((ROOT / "tests").rglob("*.py")):
        text = module.read_text(encoding="utf-8")
        depth = len(module.relative_to(ROOT).parents)  # parents[depth - 1] is the root
        for match in PARENTS.finditer(text):
            if int(match.group(1)) + match.group(2).count(".parent") >= depth:
                escapes.append(f"{module.relative_to(ROOT)}: {match.group(0)}")
        # The folder beside the repository, spelled so that this file does not name it itself.
        beside = '"' + "sha" + 'red"'
        for needle in ("ROOT.parent", beside, "/work/", ".parent.parent.parent"):
            if needle in text and module.name != Path(__file__).name:
                escapes.append(f"{module.relative_to(ROOT)}: {needle}")

    assert escapes == []
