"""Run the browser's ES modules (``townhall/web/static/js``) in Node.js, without a browser: the
modules are copied as ``.mjs`` next to a script that imports them and prints JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

JS = Path(__file__).resolve().parents[2] / "townhall" / "web" / "static" / "js"


def run_in_node(folder: Path, script: str) -> object:
    """Run ``script`` (an ES module importing ``./qa.mjs``, ``./floor.mjs`` …) in ``folder``;
    what it printed, parsed as JSON."""
    modules = sorted(path.stem for path in JS.glob("*.js"))
    for name in modules:
        text = (JS / f"{name}.js").read_text()
        for other in modules:
            text = text.replace(f'from "./{other}.js"', f'from "./{other}.mjs"')
        (folder / f"{name}.mjs").write_text(text)
    (folder / "run.mjs").write_text(script)
    node = shutil.which("node")
    assert node, "Node.js is needed to run the browser modules"
    done = subprocess.run(
        [node, str(folder / "run.mjs")], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
