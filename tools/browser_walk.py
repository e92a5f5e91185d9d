"""Walk the running demo as each role would, in the system Chromium, and keep screenshots.

    .venv/bin/linli demo --no-serve   (or `make demo` in another terminal)
    .venv/bin/python tools/browser_walk.py --base http://127.0.0.1:8000 --out var/walk

For each role (resident, community worker, grid worker, handling unit, street supervisor) it
signs in with the demo's accounts, opens the first page, the request list and one request, follows
the links a person would tap first, and saves a phone-sized and a desktop-sized screenshot of
each page, plus a line per page: its title, whether it fits a 360-px screen, and the
accessibility violations axe-core finds (WCAG 2.1 AA; residents' pages must have none). The
screenshots are for a person to look at: this is the walk of issue 8's "Done when", not a test
(the tests in tests/browser check the same pages on a small world).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.axe import AXE, violations  # noqa: E402

PASSWORD = "linli-demo-2026"
PHONE = dict(viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True)
DESKTOP = dict(viewport={"width": 1280, "height": 860})
ROLES = [
    # (account, pages to open after the first one: paths, or "first-case" for the first request
    #  of the page's list, or a CSS selector to click, prefixed with "click:")
    ("resident", ["/cases/", "first-case", "/cases/new/", "/inbox/"]),
    ("worker", ["/cases/console/", "first-case", "/console/residents/", "/insight/hot-issues/"]),
    ("grid01", ["/cases/console/", "first-case", "/cases/console/new/?channel=patrol"]),
    ("property", ["/cases/console/", "first-case"]),
    ("supervisor", ["/cases/console/", "first-case", "/console/street/"]),
]


def axe(page) -> list[str]:
    if not AXE.exists():
        return ["(axe-core not installed: run npm ci)"]
    return [f"{v['id']} ×{v['nodes']}" for v in violations(page)]


def walk(browser, base: str, out: Path, account: str, steps: list[str], size: str) -> list[str]:
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  **(PHONE if size == "phone" else DESKTOP))
    context.set_default_timeout(20_000)
    page = context.new_page()
    lines = []
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", account)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("form[action='/accounts/login/'] button[type=submit]")
    n = 0

    def keep(label):
        nonlocal n
        n += 1
        name = f"{account}-{size}-{n:02d}-{label}"
        page.screenshot(path=str(out / f"{name}.png"), full_page=True)
        fits = page.evaluate("document.documentElement.scrollWidth") <= (360 if size == "phone" else 1280)
        title = page.title()
        lines.append(f"{name}: {page.url.replace(base, '')} «{title}» fits={fits} axe={axe(page) or 'clean'}")

    keep("first-page")
    for step in steps:
        if step == "first-case":
            link = page.locator("main a[href*='-20']").first
            if link.count() == 0:
                lines.append(f"{account}-{size}: no request link on {page.url}")
                continue
            with page.expect_navigation():
                link.click()
            keep("a-request")
        elif step.startswith("click:"):
            with page.expect_navigation():
                page.click(step[6:])
            keep(step[6:].strip("#. ")[:20])
        else:
            response = page.goto(base + step)
            if response is not None and response.status >= 400:
                lines.append(f"{account}-{size}: {step} answered {response.status}")
                continue
            keep(step.strip("/").replace("/", "-").split("?")[0] or "home")
    context.close()
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--out", default=str(ROOT / "var" / "walk"))
    parser.add_argument("--sizes", nargs="+", default=["phone", "desktop"], choices=["phone", "desktop"])
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium")
    if not chromium:
        print("no system Chromium on PATH (`which chromium`)", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--headless=new", "--no-sandbox"])
        for account, steps in ROLES:
            for size in args.sizes:
                for line in walk(browser, args.base.rstrip("/"), out, account, steps, size):
                    print(line, flush=True)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
