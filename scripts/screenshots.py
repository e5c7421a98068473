"""Screenshots of the main pages on a fresh demo instance, for the README (`make screenshot`).

Starts `hotline demo` + `hotline run` in a temporary folder and drives Debian's Chromium."""
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
HOTLINE = [sys.executable, "-c", "from hotline.cli import main; main()"]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="hotline-shots-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(HOTLINE_DATABASE_URL=f"sqlite:///{folder}/demo.db", HOTLINE_SECRET_KEY="screenshots")
    subprocess.run([*HOTLINE, "demo"], env=env, cwd=folder, check=True, capture_output=True)
    with sqlite3.connect(f"{folder}/demo.db") as db:  # a caller who has called before
        caller = db.execute('SELECT consumer_phone FROM "case" WHERE consumer_phone IS NOT NULL '
                            "GROUP BY consumer_phone HAVING count(*) > 2 LIMIT 1").fetchone()[0]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([*HOTLINE, "run", "--port", str(port)], env=env, cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"])
            shoot_console(browser, base, caller)
            shoot_bureau(browser, base)
            shoot_triage(browser, base)
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


def login(browser, base, user, password):
    page = browser.new_page(viewport={"width": 1440, "height": 960}, locale="zh-CN")
    page.goto(base + "/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    page.wait_for_load_state()
    return page


def shoot_console(browser, base, caller):
    page = login(browser, base, "operator", "demo-operator-1")
    page.focus("#caller-phone")
    page.keyboard.type(caller)
    page.wait_for_timeout(800)
    page.fill("input[name='consumer.name']", "刘女士")
    page.fill("input[name='business.name']", "鞍山市铁西区某某手机专营店")
    page.fill("input[name='business.address']", "辽宁省鞍山市铁西区兴盛街道人民路88号")
    page.select_option("select[name='category.goods']", "G0101")
    page.select_option("select[name='category.issue']", index=1)
    page.fill("input[name=subject]", "新买手机屏幕漏液，商家拒绝保修")
    page.fill("textarea[name=description]", "11月20日在该店购买手机一部，三天后屏幕出现漏液，商家称人为损坏拒绝保修。")
    page.fill("input[name=demand]", "更换新机")
    page.fill("input[name=amount]", "2999.00")
    page.fill("input[name=occurred_on]", "2026-11-20")
    page.fill("#answer-search", "三包")
    page.wait_for_timeout(600)
    page.screenshot(path=str(OUT / "console.png"), full_page=True)
    page.close()


def shoot_bureau(browser, base):
    page = login(browser, base, "tiexi", "demo-bureau-1")
    page.screenshot(path=str(OUT / "inbox.png"), full_page=False)
    first = page.query_selector("table.list a.number")
    if first:
        first.click()
        page.wait_for_load_state()
        page.screenshot(path=str(OUT / "case.png"), full_page=True)
    page.close()


def shoot_triage(browser, base):
    page = login(browser, base, "supervisor", "demo-supervisor-1")
    page.goto(base + "/triage")
    page.screenshot(path=str(OUT / "triage.png"), full_page=False)
    page.close()


if __name__ == "__main__":
    main()
