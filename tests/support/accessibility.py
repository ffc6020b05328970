"""Accessibility checks for the browser tests: axe-core, and keyboard focus.

:func:`check_accessible` runs axe-core (vendored as ``tests/data/axe.min.js``, see
``tests/data/SOURCES.md``) in the page as it stands and fails on any violation axe rates
serious or critical, naming the rule, the elements and what axe says to do. Playwright's
``evaluate`` is not bound by the page's Content-Security-Policy, so the strict policy the
pages send stays in force while axe runs.

:func:`tab_to` moves the focus with the Tab key only, as a keyboard user does, until it reaches
an element, and checks that the focus is visible there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.async_api import Locator, Page

AXE = Path(__file__).resolve().parent.parent / "data" / "axe.min.js"
SEVERE = ("serious", "critical")

_RUN = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
  }));
}"""

# Whether the focused element shows where the focus is: an outline or a ring (box shadow) of
# its own while it matches :focus-visible.
_FOCUS_SHOWN = """(element) => {
  if (element !== document.activeElement || !element.matches(":focus-visible")) return false;
  const style = getComputedStyle(element);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  return outline || style.boxShadow !== "none";
}"""


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Every violation axe finds in the page now, whatever its impact."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    return await page.evaluate(_RUN)


async def check_accessible(page: Page, label: str) -> None:
    """No serious or critical axe violation in ``page`` (``label`` names the state checked)."""
    severe = [v for v in await axe_violations(page) if v["impact"] in SEVERE]
    report = [
        f"{v['impact']} {v['id']}: {v['help']} — "
        + "; ".join(f"{n['target']} ({n['summary']})" for n in v["nodes"][:5])
        for v in severe
    ]
    assert report == [], f"{label} ({page.url}):\n" + "\n".join(report)


async def focus_shown(target: Locator) -> bool:
    return await target.evaluate(_FOCUS_SHOWN)


async def tab_to(page: Page, target: Locator, *, most: int = 80, backwards: bool = False) -> None:
    """Press Tab (Shift+Tab with ``backwards``) until ``target`` has the focus, which must be
    visible there."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(most):
        if await target.evaluate("(element) => element === document.activeElement"):
            break
        await page.keyboard.press(key)
    else:
        focused = await page.evaluate("() => document.activeElement?.outerHTML.slice(0, 200)")
        raise AssertionError(f"{most} presses of {key} never reached {target}; at {focused}")
    assert await focus_shown(target), f"the focus on {target} is not visible"
