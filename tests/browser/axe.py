"""axe-core, the accessibility engine, run inside a page the browser tests have open.

axe-core comes from the npm registry (package.json, pinned by package-lock.json; `make test`
runs `npm ci` where npm exists). Without it the checks skip and say why; CI sets
LINLI_REQUIRE_BROWSER and fails instead, as it does for a missing Chromium.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 A and AA: what the residents' pages promise (README, docs/accessibility.md).
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def require_axe() -> None:
    if AXE.exists():
        return
    message = f"axe-core is not installed ({AXE} missing; run `npm ci`): accessibility checks skipped"
    if os.environ.get("LINLI_REQUIRE_BROWSER"):
        pytest.fail(message.replace("skipped", "required by LINLI_REQUIRE_BROWSER"))
    pytest.skip(message)


def violations(page) -> list[dict]:
    """axe's WCAG 2.1 AA violations on the page as it is now: [{id, impact, help, nodes, targets}]
    (``nodes``: how many elements fail; ``targets``: the first five)."""
    require_axe()
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => { const r = await axe.run(document, {runOnly: {type: 'tag', values: tags},"
        " resultTypes: ['violations']}); return r.violations.map(v => ({id: v.id, impact: v.impact,"
        " help: v.help, nodes: v.nodes.length, targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))})); }",
        WCAG_21_AA,
    )
    return result


def describe(found: list[dict]) -> str:
    return "\n".join(f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}" for v in found)
