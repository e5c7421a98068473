"""The crawl (issue 7): on the demo data, each role logs in to Chromium and follows every same-origin
link it can reach (GET only: pagination, every filter and status tab, a sample of cases), up to a
bound, at 1280 px and 390 px, in Chinese and in English. Every page must answer below 400 (but a
case the role may not see answers 404), log no console error, show no raw template text, no
English UI string on a Chinese page, no serious or critical axe-core violation, and at 390 px no
horizontal scrollbar and no button off screen. All failures of a role are reported together."""
import os
import re
import sqlite3
from collections import Counter, deque
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pytest

from hotline.testing import LocalHotline

pytestmark = pytest.mark.browser

# README.md's demo log-ins.
ROLES = {"operator": "demo-operator-1", "station": "demo-station-1", "tiexi": "demo-bureau-1",
         "tiedong": "demo-bureau-2", "supervisor": "demo-supervisor-1", "admin": "demo-admin-1"}
# The public pages, without a log-in: anyone (alerts, the look-up form), and a consumer who has looked a
# case up with its number and query code (the status page, rating or adding information).
PUBLIC_ROLES = ("anonymous", "consumer")
CONSUMER_CODE = "K7XQ2M"
# (language, width, pages at most): the whole crawl stays within a few minutes on two cores.
VARIANTS = [("zh", 1280, 50), ("zh", 390, 25), ("en", 1280, 12), ("en", 390, 12)]
# axe-core takes up to a second on a long table, so it checks each kind of page (its path, case numbers
# alike) this many times per crawl, rather than every page of every list.
AXE_PER_PATH = {"zh-1280": 2, "zh-390": 1, "en-1280": 1, "en-390": 1}
SKIP_PATHS = ("/logout", "/lang/", "/static/", "/api/")  # log-out ends the crawl; language is set explicitly
SAMPLE_CASES = 8  # case pages per crawl at most (scaled down with the bound)
PAGES_PER_LIST = 2  # pages of one list (one filter, or filters combined), of one kind of item, at most

# Words allowed on a Chinese page although ASCII: the language link, log-in names shown to the
# centre, abbreviations. Tokens with a digit (codes, numbers, 12315) and all-capital tokens (query
# codes, CSV, API, SMS) are allowed by rule.
ALLOWED_WORDS = {"English", *ROLES, "Alt", "Ctrl", "Shift", "Enter", "Esc", "Tab"}  # key names
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
CASE_PATH = re.compile(r"^/cases/\d{10,}$")

TEXTS_JS = """() => {
  const out = [];
  const skip = el => el.closest('script, style, code, kbd, samp, [translate=no], [lang=en], header .lang');
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.nodeValue.trim();
    const el = walker.currentNode.parentElement;
    if (text && el && !skip(el)) out.push(text);
  }
  const labelled = '[placeholder], [aria-label], [title], img[alt], input[type=submit][value]';
  for (const el of document.querySelectorAll(labelled)) {
    if (skip(el)) continue;
    for (const a of ['placeholder', 'aria-label', 'title', 'alt']) if (el.getAttribute(a)) out.push(el.getAttribute(a));
    if (el.matches('input[type=submit]')) out.push(el.value);
  }
  out.push(document.title);
  return out;
}"""

LINKS_JS = """() => {
  const urls = [...document.querySelectorAll('a[href]')].map(a => a.href);
  // Each GET form: as submitted with its defaults, and once per option of each select and radio group.
  for (const form of document.querySelectorAll('form')) {
    if ((form.getAttribute('method') || 'get').toLowerCase() !== 'get') continue;
    const action = new URL(form.getAttribute('action') || location.href, location.href);
    const base = [...new FormData(form).entries()].filter(([k, v]) => typeof v === 'string');
    const submit = entries => {
      const u = new URL(action);
      u.search = new URLSearchParams(entries).toString();
      return u.href;
    };
    urls.push(submit(base));
    for (const select of form.querySelectorAll('select[name]')) {
      for (const option of select.options) {
        urls.push(submit([...base.filter(([k]) => k !== select.name), [select.name, option.value]]));
      }
    }
    for (const radio of form.querySelectorAll('input[type=radio][name]')) {
      urls.push(submit([...base.filter(([k]) => k !== radio.name), [radio.name, radio.value]]));
    }
    for (const search of form.querySelectorAll('input[type=search][name], input[name=q]')) {
      urls.push(submit([...base.filter(([k]) => k !== search.name), [search.name, '鞍山']]));
    }
  }
  return urls;
}"""

LAYOUT_JS = """() => {
  const doc = document.documentElement, out = [];
  const width = doc.clientWidth, right = el => el.getBoundingClientRect().right;
  if (doc.scrollWidth > width) out.push(`horizontal scrollbar: the page is ${doc.scrollWidth}px wide`);
  // The outermost elements that stick out name the culprit.
  const wide = [...document.querySelectorAll('body *')].filter(el => right(el) > width + 1)
      .filter(el => !el.parentElement || right(el.parentElement) <= width + 1);
  for (const el of wide.slice(0, 3)) {
    const classes = el.className ? '.' + String(el.className).trim().split(/ +/).join('.') : '';
    out.push(`too wide: ${el.tagName.toLowerCase()}${classes} reaches ${Math.round(right(el))}px`);
  }
  for (const b of document.querySelectorAll('button, a.button, input[type=submit]')) {
    const r = b.getBoundingClientRect();
    if (r.width && (r.left < -1 || r.right > width + 1)) out.push(`button off screen: "${b.textContent.trim()}"`);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    local = LocalHotline(tmp_path_factory.mktemp("crawl"), secret="crawl-test")
    local.cli("demo")
    hidden = _cases_hidden_from_each_role(local.database)
    hidden["consumer"] = _give_a_case_a_known_code(local.database, "crawl-test")
    base = local.start()
    yield base, hidden
    local.stop()


def _cases_hidden_from_each_role(database) -> dict[str, str]:
    """A case number each confined role may not see: the other bureau's, another station's."""
    with sqlite3.connect(database) as db:
        bureau = dict(db.execute("SELECT u.username, u.bureau_id FROM user u WHERE u.role = 'bureau'").fetchall())
        station = dict(db.execute("SELECT u.username, u.station_id FROM user u WHERE u.role = 'station'").fetchall())
        hidden = {}
        for name, bureau_id in bureau.items():
            row = db.execute('SELECT number FROM "case" WHERE bureau_id IS NOT NULL AND bureau_id != ? LIMIT 1',
                             (bureau_id,)).fetchone()
            if row:
                hidden[name] = row[0]
        for name, station_id in station.items():
            row = db.execute('SELECT number FROM "case" WHERE station_id IS NULL OR station_id != ? LIMIT 1',
                             (station_id,)).fetchone()
            if row:
                hidden[name] = row[0]
    return hidden


def _give_a_case_a_known_code(database, secret: str) -> str:
    """The query code is stored only as its HMAC: give one open demo case a code the crawl knows."""
    from hotline.cases.numbers import hash_query_code
    with sqlite3.connect(database) as db:
        number = db.execute('SELECT number FROM "case" WHERE status = \'pending\' LIMIT 1').fetchone()[0]
        db.execute('UPDATE "case" SET query_code_hash = ? WHERE number = ?',
                   (hash_query_code(secret, number, CONSUMER_CODE), number))
    return number


def _kind(url: str) -> str:
    """Which page: its path, with case numbers and other item codes (A001, 17) alike."""
    return re.sub(r"/[A-Za-z]{0,3}\d+(?=/|$)", "/#", urlsplit(url).path)


def _shape(url: str) -> tuple:
    """Pages alike for the bound: one item page is like another (a case, an answer); a list is its
    filters, whatever its page; filters combined are one shape per list."""
    parts = urlsplit(url)
    kind = _kind(url)
    if "#" in kind:
        return ("item", kind)
    filters = tuple(sorted((k, v) for k, v in parse_qsl(parts.query) if k != "page" and v))
    return (parts.path, "combined") if len(filters) > 1 else (parts.path, filters)


class Crawl:
    def __init__(self, browser, base: str, role: str, lang: str, width: int, bound: int):
        self.base, self.role, self.lang, self.width, self.bound = base, role, lang, width, bound
        self.variant = f"{lang}-{width}"
        self.failures: list[tuple[str, str]] = []
        self.axed: Counter = Counter()
        self.visited: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": 900},
                                           locale="zh-CN" if lang == "zh" else "en-US")
        self.page = self.context.new_page()
        self.events: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda e: self.events.append(f"script error: {e}"))
        self.page.on("response", self._on_response)

    def _on_console(self, message) -> None:
        # A failed load is also a response below 400, checked on its own (and a 404 may be expected).
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.events.append(f"console error: {message.text}")

    def _on_response(self, response) -> None:
        kind = response.request.resource_type
        if response.url.startswith(self.base) and response.status >= 400 and kind != "document":
            self.events.append(f"{response.status} for {kind} {response.url[len(self.base):]}")

    def fail(self, url: str, message: str) -> None:
        self.failures.append((f"[{self.role} {self.variant}] {message}", url[len(self.base):] or "/"))

    def log_in(self) -> None:
        page = self.page
        if self.lang == "en":
            page.goto(self.base + "/lang/en")
        if self.role in PUBLIC_ROLES:
            page.goto(self.base + ("/alerts" if self.role == "anonymous" else "/track"))
            if self.role == "consumer":
                page.fill("input[name=number]", self.consumer_case)
                page.fill("input[name=code]", CONSUMER_CODE)
                with page.expect_navigation():
                    page.click("main button[type=submit]")
            return
        page.goto(self.base + "/login")
        page.fill("input[name=username]", self.role)
        page.fill("input[name=password]", ROLES[self.role])
        with page.expect_navigation():
            page.keyboard.press("Enter")
        if "/login" in page.url:
            raise AssertionError(f"{self.role} could not log in: {page.inner_text('main')[:300]}")

    def wanted(self, url: str) -> str | None:
        parts = urlsplit(url)
        if not url.startswith(self.base) or parts.path.startswith(SKIP_PATHS):
            return None
        return urlunsplit(parts._replace(fragment=""))

    def run(self, hidden_case: str | None, axe) -> None:
        if self.role == "consumer":
            self.consumer_case, hidden_case = hidden_case, None
        self.log_in()
        # Pages of a kind not seen yet go first, so the bound reaches every page before every filter; then
        # the kind visited least, so each list's filters and pages get their share.
        fresh, more = deque([self.page.url]), {}
        seen, shapes, visits = {self.page.url}, Counter(), Counter()
        case_cap = max(2, SAMPLE_CASES * self.bound // VARIANTS[0][2])
        if hidden_case:  # a case this role may not see: the app's own 404 page, checked like any other
            more["hidden"] = deque([f"{self.base}/cases/{hidden_case}"])
        while len(self.visited) < self.bound:
            waiting = [kind for kind, queue in more.items() if queue]
            if fresh:
                url = fresh.popleft()
            elif waiting:
                url = more[min(waiting, key=lambda kind: visits[kind])].popleft()
            else:
                break
            visits[_kind(url)] += 1
            for link in self.visit(url, hidden_case, axe):
                link = self.wanted(link)
                if not link or link in seen:
                    continue
                shape = _shape(link)
                if shapes[shape] >= (case_cap if shape == ("item", "/cases/#") else PAGES_PER_LIST):
                    continue
                seen.add(link)
                shapes[shape] += 1
                kind = _kind(link)
                if kind in more or kind in visits or any(_kind(u) == kind for u in fresh):
                    more.setdefault(kind, deque()).append(link)
                else:
                    fresh.append(link)
        self.context.close()
        if os.environ.get("HOTLINE_CRAWL_LOG"):  # which pages were seen, for whoever tunes the bounds
            with open(os.environ["HOTLINE_CRAWL_LOG"], "a") as log:
                log.writelines(f"{self.role} {self.variant} {url[len(self.base):]}\n" for url in self.visited)

    def visit(self, url: str, hidden_case: str | None, axe) -> list[str]:
        page = self.page
        self.events.clear()
        self.visited.append(url)
        try:
            response = page.goto(url, wait_until="load")
        except Exception as exc:  # a download (CSV export) is fine when it answers 200
            if "Download is starting" in str(exc):
                status = self.context.request.get(url).status
                if status >= 400:
                    self.fail(url, f"download answered {status}")
            else:
                self.fail(url, f"could not load: {str(exc).splitlines()[0]}")
            return []
        page.wait_for_load_state("load")
        status = response.status if response else 0
        path = urlsplit(url).path
        expected_404 = hidden_case is not None and path == f"/cases/{hidden_case}"
        if expected_404 and status != 404:
            self.fail(url, f"a case this role may not see answered {status}, not 404")
        elif status >= 400 and not expected_404:
            self.fail(url, f"answered {status}")
        if "/login" in urlsplit(page.url).path:
            self.fail(url, "landed on the log-in page")
            return []
        html = page.content()
        lang = page.evaluate("document.documentElement.lang")
        if lang != ("zh-CN" if self.lang == "zh" else "en"):  # the language chosen holds on every page
            self.fail(url, f"page in language {lang!r}")
        for raw in ("{{", "{%", "Traceback"):
            if raw in html:
                self.fail(url, f"raw template text {raw!r} in the page")
        if self.lang == "zh":
            english = sorted({t for t in page.evaluate(TEXTS_JS) if _is_english(t)})
            if english:
                self.fail(url, f"English on a Chinese page: {english[:8]}")
        if self.width < 600:
            for problem in page.evaluate(LAYOUT_JS):
                self.fail(url, problem)
        kind = _kind(url)
        if self.axed[kind] < AXE_PER_PATH[self.variant]:
            self.axed[kind] += 1
            self.check_axe(url, axe)
        for event in dict.fromkeys(self.events):
            self.fail(url, event)
        return page.evaluate(LINKS_JS)

    def check_axe(self, url: str, axe) -> None:
        for violation in axe.run(self.page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [" ".join(map(str, n["target"])) for n in violation["nodes"][:3]]
                self.fail(url, f"axe {violation['impact']} {violation['id']}: {violation['help']} "
                               f"(e.g. {targets})")


def _is_english(text: str) -> bool:
    """Visible text with no Chinese and an ASCII word of two letters or more that is no code."""
    if CJK.search(text):
        return False
    for token in re.findall(r"[A-Za-z0-9]+", text):
        if len(token) < 2 or any(c.isdigit() for c in token) or token.isupper() or token in ALLOWED_WORDS:
            continue
        return True
    return False


@pytest.fixture(scope="module")
def axe():
    from axe_playwright_python.sync_playwright import Axe
    return Axe()


@pytest.mark.parametrize("role", [*ROLES, *PUBLIC_ROLES])
def test_crawl(role, demo, browser, axe, crawl_counts):
    base, hidden = demo
    failures: dict[str, list[str]] = {}  # one line per problem, with the pages it was seen on
    for lang, width, bound in VARIANTS:
        crawl = Crawl(browser, base, role, lang, width, bound)
        crawl.run(hidden.get(role), axe)
        crawl_counts.setdefault(role, {})[crawl.variant] = len(crawl.visited)
        for problem, url in crawl.failures:
            failures.setdefault(problem, []).append(url)
    report = [f"{problem}\n    on {len(urls)} page(s): {', '.join(urls[:4])}{' …' if len(urls) > 4 else ''}"
              for problem, urls in failures.items()]
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(report)


def test_english_heuristic():
    assert _is_english("Log out") and _is_english("Wrong user name or password.")
    assert not _is_english("铁西分局") and not _is_english("12315") and not _is_english("CSV")
    assert not _is_english("20261207000123") and not _is_english("G0203") and not _is_english("English")
    assert not _is_english("K7XQ2M") and not _is_english("鞍山Apple专卖店")


def test_shape_groups_pages_of_a_list():
    assert _shape("http://x/cases?status=open&page=3") == _shape("http://x/cases?page=2&status=open")
    assert _shape("http://x/cases?status=open") != _shape("http://x/cases?status=closed")
    assert _shape("http://x/cases/20261207000123") == ("item", "/cases/#")
    assert _shape("http://x/answers/A001/edit") == _shape("http://x/answers/A002/edit")
    assert _shape("http://x/cases?status=open&kind=report") == _shape("http://x/cases?status=closed&kind=complaint")
