"""Browser tests drive Debian's Chromium with Playwright (never a downloaded browser). Without
Chromium they are skipped on a developer's machine, and fail the run under CI=true. The crawl's
page counts per role are printed in the terminal summary, so they show in CI output."""
import os
import shutil
from pathlib import Path

import pytest

from hotline.testing import CHROMIUM_ARGS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CRAWL_COUNTS = pytest.StashKey[dict]()


def chromium_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return "Chromium is missing: apt-get install -y chromium fonts-wqy-microhei"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is missing: pip install -e '.[dev]'"
    return None


@pytest.hookimpl(tryfirst=True)  # before `-m "not browser"` deselects
def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


def pytest_runtest_setup(item):
    missing = chromium_missing()
    if missing and Path(__file__).parent in item.path.parents:
        if os.environ.get("CI") == "true":  # CI must not pass by skipping what it cannot run
            pytest.fail(missing, pytrace=False)
        pytest.skip(missing)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def crawl_counts(request):
    """{role: {variant: pages visited}}, filled by the crawl and printed at the end of the run."""
    return request.config.stash.setdefault(CRAWL_COUNTS, {})


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts = config.stash.get(CRAWL_COUNTS, None)
    if not counts:
        return
    terminalreporter.section("crawl: pages visited per role")
    total = 0
    for role, variants in counts.items():
        line = ", ".join(f"{variant} {n}" for variant, n in variants.items())
        total += sum(variants.values())
        terminalreporter.write_line(f"{role:<11} {sum(variants.values()):>4}  ({line})")
    terminalreporter.write_line(f"{'total':<11} {total:>4}")
