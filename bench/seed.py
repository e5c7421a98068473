"""Seed a PostgreSQL database with millions of realistic cases, then time the statistics' full rebuild
(DESIGN.md §4, issue #11: "bench/seed.py loads 10M realistic cases into PostgreSQL with COPY, in minutes").

    .venv/bin/python bench/seed.py [--cases 10000000] [--years 6] [--jobs 2] [--seed 2026]
                                   [--database-url postgresql://postgres@127.0.0.1:5432/hotline_stats_bench]

1. Drops and creates the database (refusing `test` and the other helpers' databases), runs `hotline init`.
2. Drops the secondary indexes and foreign keys of the tables it loads (primary keys and unique
   constraints stay), then loads the cases with their clocks, accept and return events, ratings and
   extension requests by COPY (binary), in chunks of ids spread over `--jobs` processes. Then it
   recreates the indexes and keys from their own definitions (checking they are the migrations'),
   sets the sequences and runs VACUUM ANALYZE.
3. Times `hotline.stats.refresh.rebuild()` (on PostgreSQL: hotline/stats/rebuild_pg.py), VACUUM
   ANALYZEs the statistics tables, and prints rows loaded, seconds per step and table sizes.

What the cases look like: kinds complaint 55 %, consultation 30 %, report 12 %, suggestion 3 %; channels
skewed towards the phone; received over `--years` years with growth, fewer on days off, a working-day
hour shape; bureaus weighted like the demo's districts; goods and service categories of the region pack,
skewed; businesses Zipf-distributed over ~300k names (a third with a USCC, ~15 % of the cases' sellers
on an online platform); most cases closed with an outcome that fits the kind, ~3 % open (mostly recent,
the old ones overdue); statutory clocks with due and met times on the region's calendar, mostly met on
time; ratings for ~40 % of closed complaints; returns to the centre for ~4 %; extension requests for
some reports; recovered amounts on settled complaints. Deterministic for a given --seed and day.
"""
import argparse
import bisect
import math
import multiprocessing
import os
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hotline.cases.business_keys import business_key  # noqa: E402
from hotline.deadlines import calendar  # noqa: E402
from hotline.demo import BRANDS, GIVEN_NAMES, MOBILE_PREFIXES, ROADS, SURNAMES  # noqa: E402
from hotline.reference.operations import read_pack  # noqa: E402

BIN = ROOT / ".venv" / "bin"
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/hotline_stats_bench"
PROTECTED = {"test", "hotline_main_pg", "hotline_workers", "hotline_ci", "hotline_bench", "hotline_sweep_bench",
             "bench_broadcast", "postgres", "template0", "template1"}
TZ = "Asia/Shanghai"
CHUNK = 100_000  # cases per COPY transaction
BUSINESSES = 300_000
ORDER_121 = date(2026, 4, 15)  # the rulebook in force from this day of receipt (DESIGN.md §2 Deadlines)
LOADED = ("case", "case_clock", "case_event", "case_rating", "extension_request")

KINDS = {"complaint": 55, "consultation": 30, "report": 12, "suggestion": 3}
CHANNELS = {
    "complaint": {"phone": 50, "web": 15, "national_platform": 18, "station": 7, "walk_in": 7, "letter": 3},
    "report": {"phone": 45, "web": 20, "national_platform": 17, "letter": 8, "walk_in": 5, "station": 5},
    "consultation": {"phone": 78, "web": 9, "national_platform": 5, "walk_in": 4, "station": 4},
    "suggestion": {"phone": 40, "web": 35, "letter": 10, "national_platform": 10, "station": 5},
}
BUREAU_WEIGHTS = {"tiedong": 22, "tiexi": 18, "lishan": 14, "haicheng": 12, "qianshan": 8, "gaoxin": 8,
                  "taian": 5, "xiuyan": 5, "jingkai": 5}
BUREAU_DIVISIONS = {"tiedong": "210302", "tiexi": "210303", "lishan": "210304", "qianshan": "210311",
                    "taian": "210321", "xiuyan": "210323", "haicheng": "210381", "gaoxin": "210302",
                    "jingkai": "210303"}
OUTCOMES = {  # closed cases: outcomes that fit the kind
    "complaint": {"mediated": 55, "terminated": 14, "declined": 15, "withdrawn": 13, "transferred": 3},
    "report": {"no_case": 45, "case_filed": 25, "declined": 15, "merged": 5, "withdrawn": 5, "transferred": 5},
    "consultation": {"answered": 95, "withdrawn": 3, "transferred": 2},
    "suggestion": {"answered": 97, "withdrawn": 3},
}
OPEN_STATUSES = {
    "complaint": {"pending": 45, "accepted": 40, "suspended": 5, "triage": 6, "registered": 4},
    "report": {"pending": 35, "verifying": 55, "triage": 6, "registered": 4},
    "consultation": {"pending": 60, "triage": 20, "registered": 20},
    "suggestion": {"pending": 60, "triage": 20, "registered": 20},
}
# Share of cases still open by age in days: most of the queue is recent, a tail is stuck (and overdue).
OPEN_BY_AGE = ((3, 0.85), (10, 0.55), (30, 0.25), (90, 0.06), (365, 0.012), (10 ** 6, 0.006))
HOURS = (1, 1, 1, 1, 1, 2, 4, 10, 30, 42, 40, 34, 18, 22, 36, 38, 34, 28, 16, 12, 10, 7, 4, 2)  # local hour
SCORES = {5: 52, 4: 24, 3: 10, 2: 6, 1: 8}
PLATFORMS = ("淘宝", "京东", "拼多多", "抖音", "快手", "美团", "唯品会", "闲鱼")
PLATFORM_WEIGHTS = (30, 22, 20, 12, 6, 6, 2, 2)
TRADES = ("超市", "便利店", "通讯器材商店", "手机广场", "健身会所", "美容美体会所", "餐饮管理有限公司", "饺子馆",
          "烧烤", "热力有限公司", "二手车经纪有限公司", "汽车销售服务有限公司", "电器商场", "家居广场",
          "装饰工程有限公司", "艺术培训学校", "教育咨询有限公司", "通信营业厅", "快递营业部", "电动车行",
          "玉器商行", "珠宝金行", "医疗美容诊所", "电子商务有限公司", "服装店", "网络科技有限公司", "宾馆",
          "洗衣店", "农资商店", "物业服务有限公司", "大药房", "农贸市场", "母婴用品店", "眼镜店", "家政服务有限公司")
PLACES = ("鞍山", "鞍山市", "铁东", "铁西", "立山", "千山", "海城", "台安", "岫岩", "南台", "腾鳌", "汤岗子")
ONLINE_TRADES = ("旗舰店", "专营店", "官方店", "优选店", "生活馆", "数码专营店", "服饰旗舰店", "（外卖）")
ISSUES = ("质量问题", "售后服务", "退款纠纷", "价格争议", "虚假宣传", "合同纠纷", "安全问题", "计量问题")
DEMANDS = {"complaint": "要求退款并赔偿", "report": "请依法查处", "consultation": None, "suggestion": None}
# Cases with a business: by kind. A consultation names one half the time, a suggestion rarely.
WITH_BUSINESS = {"complaint": 1.0, "report": 1.0, "consultation": 0.5, "suggestion": 0.2}


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def cumulative(weights) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return [x / total for x in out]


class Drawer:
    """Weighted draws by bisection on cumulative weights: fast enough for tens of millions."""

    def __init__(self, items, weights):
        self.items, self.cum = list(items), cumulative(weights)

    def __call__(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * 0.9999999999)]


class World:
    """Everything the chunks draw from, built once in the parent (the workers inherit it by fork)."""

    def __init__(self, cases: int, years: int, seed: int, bureau_ids: dict[str, int], categories: list[tuple],
                 handlers: dict[str, int]):
        self.cases, self.seed = cases, seed
        self.zone = ZoneInfo(TZ)
        self.now = datetime.now(UTC).replace(microsecond=0)
        today = self.now.astimezone(self.zone).date()
        first = today.replace(year=today.year - years) + timedelta(days=1)
        margin = 400  # due dates run past today
        self.days = [first + timedelta(days=i) for i in range((today - first).days + 1 + margin)]
        self.received_days = (today - first).days + 1
        self.midnight = [datetime.combine(d, datetime.min.time(), tzinfo=self.zone).astimezone(UTC) for d in self.days]
        self.working = [calendar.is_working_day(d) for d in self.days]
        # Intake per day: growth (doubling over the period), fewer on days off, busier in winter (heating)
        # and after the shopping festivals.
        season = {1: 1.1, 2: 0.85, 3: 1.05, 4: 1.0, 5: 1.0, 6: 1.05, 7: 1.0, 8: 0.95, 9: 1.0, 10: 0.95, 11: 1.2,
                  12: 1.15}
        weights = [(1 + i / self.received_days) * (1.0 if self.working[i] else 0.45) * season[self.days[i].month]
                   for i in range(self.received_days)]
        self.day_cum = cumulative(weights)
        # Index of the first case of each day, for daily case numbers (YYYYMMDD + sequence + check digit).
        self.day_first = [math.ceil((self.day_cum[i - 1] if i else 0.0) * cases) for i in range(self.received_days)]
        self.hours = cumulative(HOURS)
        self.day_numbers = [f"{d:%Y%m%d}" for d in self.days]
        self.day_damm = [damm_interim(prefix) for prefix in self.day_numbers]
        self._due: dict[tuple[int, str], list[int]] = {}
        for version in RULES.values():  # built here, once, rather than in every worker after the fork
            for length, unit in version.values():
                for extra in (0, 15):
                    self.due_index(0, length + extra, unit)
        self.names = [surname + given for surname in SURNAMES for given in GIVEN_NAMES]
        self.kinds = Drawer(KINDS, KINDS.values())
        self.channels = {k: Drawer(v, v.values()) for k, v in CHANNELS.items()}
        self.outcomes = {k: Drawer(v, v.values()) for k, v in OUTCOMES.items()}
        self.open_statuses = {k: Drawer(v, v.values()) for k, v in OPEN_STATUSES.items()}
        self.scores = Drawer(SCORES, SCORES.values())
        self.bureau_codes = list(BUREAU_WEIGHTS)
        self.bureau_ids, self.handlers = bureau_ids, handlers
        self.bureaus = Drawer(range(len(self.bureau_codes)), BUREAU_WEIGHTS.values())
        rng = random.Random(seed)
        # Categories: each leaf of the pack's goods and service lists, skewed (Zipf over a shuffled order).
        order = list(categories)
        rng.shuffle(order)
        self.categories = Drawer(order, [1 / (rank + 3) ** 1.1 for rank in range(len(order))])
        self._make_businesses(rng)

    def due_index(self, day: int, length: int, unit: str) -> int:
        """Index of the last day of a period starting on `day`, on the app's calendar (the start day is
        not counted; a natural-day period ending on a day off moves to the next working day, art. 45)."""
        table = self._due.get((length, unit))
        if table is None:
            table = [self._last_day(i, length, unit) for i in range(len(self.days))]
            self._due[(length, unit)] = table
        return table[day]

    def _last_day(self, start: int, length: int, unit: str) -> int:
        end = len(self.days) - 2
        if unit == "natural":
            day = start + length
            while length and day < end and not self.working[day]:
                day += 1
            return min(day, end)
        day, counted = start, 0
        while counted < length and day < end:
            day += 1
            counted += self.working[day]
        return day

    def _make_businesses(self, rng: random.Random) -> None:
        names, seen = [], set()
        while len(names) < BUSINESSES:
            online = rng.random() < 0.12
            brand = rng.choice(BRANDS) + rng.choice(BRANDS)
            name = (brand + rng.choice(ONLINE_TRADES)) if online else (rng.choice(PLACES) + brand + rng.choice(TRADES))
            if name in seen:
                continue
            seen.add(name)
            names.append((name, online))
        platforms = Drawer(PLATFORMS, PLATFORM_WEIGHTS)
        self.business = []  # (name, uscc, platform, shop, key, address, division, bureau index)
        for name, online in names:
            company = name.endswith("公司") or name.endswith("诊所") or name.endswith("学校")
            code = a_uscc(rng) if rng.random() < (0.8 if company else 0.25) else None
            bureau = self.bureaus(rng)
            division = BUREAU_DIVISIONS[self.bureau_codes[bureau]]
            roads = ROADS.get(division, ROADS["210302"])
            address = f"辽宁省鞍山市{rng.choice(roads)}{rng.randint(1, 300)}号"
            platform = platforms(rng) if online else None
            self.business.append((name, code, platform, name if online else None, business_key(code, name), address,
                                  division, bureau))
        # Zipf-Mandelbrot over a shuffled order: the biggest business has ~0.3 % of the cases, the top 1,000 ~30 %.
        rng.shuffle(self.business)
        self.businesses = Drawer(range(len(self.business)), [1 / (rank + 21) ** 0.9 for rank in range(BUSINESSES)])


def a_uscc(rng: random.Random) -> str:
    """A unified social credit code that passes GB 32100 (as hotline/demo.py makes them)."""
    from stdnum.cn import uscc
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "MA" + "".join(rng.choice(alphabet) for _ in range(6))
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in body]
    check = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    head = "91210300" + body + {10: "X", 11: "0"}.get(check, str(check))
    return head + uscc.calc_check_digit(head)


CASE_COLUMNS = ("id", "number", "kind", "channel", "status", "outcome", "received_at", "registered_at", "closed_at",
                "bureau_id", "consumer_name", "consumer_phone", "consumer_anonymous", "business_name",
                "business_address", "business_uscc", "business_platform", "business_shop", "business_key",
                "category_goods", "category_service", "category_issue", "subject", "description", "demand", "amount",
                "recovered_amount", "ground_code", "query_code_hash", "division_code", "routing_rule", "return_count",
                "assignment_final", "rulebook_version", "transferred_to", "overdue", "version")
CASE_TYPES = ("int4", "text", "text", "text", "text", "text", "timestamptz", "timestamptz", "timestamptz", "int4",
              "text", "text", "bool", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text",
              "text", "text", "int8", "int8", "text", "text", "text", "text", "int4", "bool", "text", "text", "bool",
              "int4")
CLOCK_COLUMNS = ("id", "case_id", "clock", "rule_version", "started_at", "length", "unit", "due_at", "met_at",
                 "fallback_calendar", "paused_days", "extended_days")
CLOCK_TYPES = ("int4", "int4", "text", "text", "timestamptz", "int4", "text", "timestamptz", "timestamptz", "bool",
               "int4", "int4")
EVENT_COLUMNS = ("id", "case_id", "at", "actor_label", "action", "from_status", "to_status", "reason", "data")
EVENT_TYPES = ("int4", "int4", "timestamptz", "text", "text", "text", "text", "text", "json")
RATING_COLUMNS = ("id", "case_id", "score", "bureau_id", "rated_at")
RATING_TYPES = ("int4", "int4", "int4", "int4", "timestamptz")
EXTENSION_COLUMNS = ("id", "case_id", "clock", "reason", "status", "requested_by_id", "requested_at", "decided_at")
EXTENSION_TYPES = ("int4", "int4", "text", "text", "text", "int4", "timestamptz", "timestamptz")
SLOTS = 8  # clock and event ids: case id * SLOTS + position, unique across chunks without coordination

# (clock, length, unit) per rulebook version (hotline/regions/anshan/deadline_rules.json)
RULES = {"order-20": {"complaint_decision": (7, "working"), "mediation": (45, "working"), "triage": (1, "working"),
                      "report_verification": (15, "working"), "consultation_reply": (3, "working")},
         "order-121": {"complaint_decision": (7, "working"), "mediation": (60, "natural"), "triage": (1, "working"),
                       "report_verification": (15, "working"), "consultation_reply": (3, "working")}}
FIRST_CLOCK = {"complaint": "complaint_decision", "report": "report_verification",
               "consultation": "consultation_reply", "suggestion": "consultation_reply"}


class Chunk:
    """The rows of one range of case ids."""

    def __init__(self, world: World, lo: int, hi: int):
        self.w, self.lo, self.hi = world, lo, hi
        self.rng = random.Random(world.seed * 1_000_003 + lo)
        self.cases, self.clocks, self.events, self.ratings, self.extensions = [], [], [], [], []

    def clock(self, case_id: int, slot: int, name: str, version: str, start: datetime, start_day: int,
              met: datetime | None, extended: int = 0) -> datetime:
        length, unit = RULES[version][name]
        due = self.w.midnight[self.w.due_index(start_day, length + extended, unit) + 1]  # 24:00 of the last day
        self.clocks.append((case_id * SLOTS + slot, case_id, name, version, start, length, unit, due, met, False, 0,
                            extended))
        return due

    def day_of(self, moment: datetime) -> int:
        return min(max((moment - self.w.midnight[0]).days, 0), len(self.w.days) - 3)  # approximate local day

    def after(self, start: datetime, low_days: float, high_days: float) -> datetime:
        """A moment some days after `start`, never later than now."""
        moment = start + timedelta(seconds=int((low_days + self.rng.random() * (high_days - low_days)) * 86400))
        return min(moment, self.w.now - timedelta(seconds=int(self.rng.random() * 600) + 1))

    def within(self, start: datetime, due: datetime, late_share: float) -> datetime:
        """When a deadline was met: mostly before it, `late_share` of the time after it."""
        span = max((due - start).total_seconds(), 3600)
        if self.rng.random() < late_share:
            moment = due + timedelta(seconds=int(self.rng.uniform(0.05, 0.8) * span))
        else:
            moment = start + timedelta(seconds=int((self.rng.random() + self.rng.random()) * 0.45 * span))
        return min(moment, self.w.now - timedelta(seconds=int(self.rng.random() * 600) + 1))

    def build(self) -> None:
        for case_id in range(self.lo, self.hi + 1):
            self.case(case_id)

    def case(self, case_id: int) -> None:  # noqa: C901  (one case's life, step by step)
        w, rng = self.w, self.rng
        u = (case_id - 1 + rng.random()) / w.cases
        day = min(bisect.bisect_right(w.day_cum, u), w.received_days - 1)
        received = w.midnight[day] + timedelta(hours=bisect.bisect_right(w.hours, rng.random()),
                                               seconds=int(rng.random() * 3600))
        if received > w.now:
            received = w.now - timedelta(seconds=int(rng.random() * 3600) + 1)
        age = (w.now - received).total_seconds() / 86400
        kind = w.kinds(rng)
        channel = w.channels[kind](rng)
        version = "order-121" if w.days[day] >= ORDER_121 else "order-20"
        is_open = rng.random() < next(share for limit, share in OPEN_BY_AGE if age < limit)
        status, outcome = (w.open_statuses[kind](rng), None) if is_open else ("closed", w.outcomes[kind](rng))
        if status == "registered" and age > 1:
            status = "pending"  # the router places a case within minutes; only today's wait unrouted

        business = w.business[w.businesses(rng)] if rng.random() < WITH_BUSINESS[kind] else None
        at_centre = status in ("triage", "registered") or outcome == "transferred"
        bureau = None
        if not at_centre:
            bureau = business[7] if business is not None and rng.random() < 0.9 else w.bureaus(rng)
        bureau_code = w.bureau_codes[bureau] if bureau is not None else None
        axis, category, category_name = w.categories(rng) if (kind != "suggestion" or rng.random() < 0.3) else \
            (None, None, None)

        # The life of the case, clock by clock (the clocks the workflow starts and meets, hotline/cases/actions.py).
        returns: list[tuple[datetime, str]] = []  # 退单: by another bureau, each followed by the centre's assignment
        if bureau is not None and rng.random() < 0.04:
            others = [code for code in w.bureau_codes if code != bureau_code]
            at = self.after(received, 0.1, 2.0)
            returns.append((at, rng.choice(others)))
            if rng.random() < 0.1:
                returns.append((self.after(at, 0.3, 2.0), rng.choice(others)))
        # Decisions come after the last re-assignment.
        start = returns[-1][0] + timedelta(hours=2) if returns else received
        first, slot, closed_at, accepted_at, overdue = FIRST_CLOCK[kind], 0, None, None, False
        if kind == "complaint":
            withdrawn_early = outcome == "withdrawn" and rng.random() < 0.5
            accepted = status in ("accepted", "suspended") or outcome in ("mediated", "terminated") or \
                (outcome == "withdrawn" and not withdrawn_early)
            due = w.midnight[w.due_index(day, 7, "working") + 1]  # 24:00 local of the last day
            decision_met = self.within(start, due, 0.06) if status == "closed" or accepted else None
            self.clock(case_id, slot, first, version, received, day, decision_met)
            slot += 1
            if accepted:
                accepted_at = decision_met
                length, unit = RULES[version]["mediation"]
                start_day = self.day_of(accepted_at)
                mediation_due = w.midnight[w.due_index(start_day, length, unit) + 1]
                closed_at = self.within(accepted_at, mediation_due, 0.05) if status == "closed" else None
                self.clock(case_id, slot, "mediation", version, accepted_at, start_day, closed_at)
                slot += 1
                overdue = status != "closed" and mediation_due < w.now
            else:  # declined, withdrawn or transferred before a decision, or still waiting for one
                closed_at = decision_met
                overdue = status != "closed" and due < w.now
        else:
            extended = 0
            if kind == "report" and bureau is not None and rng.random() < 0.12:  # 延期申请 by the handler
                requested = self.after(received, 6, 12)
                if status == "closed":
                    decision = "approved" if rng.random() < 0.8 else "refused"
                else:
                    decision = rng.choice(("pending", "approved", "refused"))
                if requested < w.now - timedelta(days=1):
                    decided_at = self.after(requested, 0.2, 2) if decision != "pending" else None
                    self.extensions.append((case_id * 2, case_id, first, "案情复杂，需进一步核查", decision,
                                            w.handlers[bureau_code], requested, decided_at))
                    extended = 15 if decision == "approved" else 0
            length, unit = RULES[version][first]
            due = w.midnight[w.due_index(day, length + extended, unit) + 1]
            if status == "closed" and kind != "report" and rng.random() < 0.6:  # answered on the phone at once
                closed_at = min(received + timedelta(seconds=rng.randint(60, 900)), w.now)
            elif status == "closed":
                closed_at = self.within(start, due, 0.08)
            self.clock(case_id, slot, first, version, received, day, closed_at, extended)
            slot += 1
            overdue = status != "closed" and due < w.now
        if status == "triage" or outcome == "transferred" or returns:  # the centre's triage clock, the last wait
            waited = returns[-1][0] if returns else received
            met = returns[-1][0] + timedelta(hours=2) if returns else closed_at
            self.clock(case_id, slot, "triage", version, waited, self.day_of(waited), met)
            slot += 1

        # The events the statistics read: return_to_centre (and the centre's assignment after it), accept.
        events = []
        for at, code in returns:
            events.append((at, "承办人", "return_to_centre", "pending", "triage", "不属本辖区", {"bureau": code}))
            events.append((at + timedelta(hours=2), "督办", "assign", "triage", "pending", None,
                           {"bureau": bureau_code, "final": False}))
        if accepted_at is not None:
            events.append((accepted_at, "承办人", "accept", "pending", "accepted", None, None))
        for position, event in enumerate(events):
            self.events.append((case_id * SLOTS + position, case_id, *event))

        recovered, amount = None, None
        if kind == "complaint":
            amount = int(math.exp(rng.gauss(6.3, 1.3)) * 100)
            if outcome == "mediated" and rng.random() < 0.78:
                recovered = int(amount * rng.uniform(0.2, 1.0)) // 100 * 100
            if status == "closed" and outcome != "transferred" and rng.random() < 0.4:
                rated_at = self.after(closed_at, 0.05, 5)
                self.ratings.append((case_id, case_id, w.scores(rng), w.bureau_ids.get(bureau_code), rated_at))

        number = self.number(case_id, day)
        division = business[6] if business is not None else None
        self.cases.append((
            case_id, number, kind, channel, status, outcome, received,
            received + timedelta(seconds=int(rng.random() * 300) + 5), closed_at if status == "closed" else None,
            w.bureau_ids.get(bureau_code), w.names[int(rng.random() * len(w.names))],
            MOBILE_PREFIXES[int(rng.random() * len(MOBILE_PREFIXES))] + f"{int(rng.random() * 10 ** 8):08d}",
            False, business[0] if business else None, business[5] if business else None,
            business[1] if business else None, business[2] if business else None, business[3] if business else None,
            business[4] if business else None, category if axis == "goods" else None,
            category if axis == "service" else None, None,
            f"{category_name or '其他'}{ISSUES[case_id % len(ISSUES)]}", "消费者反映的情况，详见录音。", DEMANDS[kind],
            amount, recovered if status == "closed" else None,
            {"declined": "D01", "terminated": "T01", "no_case": "N01"}.get(outcome),
            f"{rng.getrandbits(256):064x}", division, f"division {division}" if bureau is not None else None,
            len(returns), len(returns) >= 2, version, "沈阳市12315" if outcome == "transferred" else None, overdue, 1))

    def number(self, case_id: int, day: int) -> str:
        """YYYYMMDD + the day's sequence + a Damm check digit, as hotline/cases/numbers.py makes them."""
        sequence = case_id - self.w.day_first[day] + 1
        if not 0 < sequence < 100_000:
            return f"B{case_id:015d}"  # never clashes: real numbers are 14 digits
        tail = f"{sequence:05d}"
        return self.w.day_numbers[day] + tail + damm_digit(tail, self.w.day_damm[day])


_DAMM = ((0, 3, 1, 7, 5, 9, 8, 6, 4, 2), (7, 0, 9, 2, 1, 5, 4, 8, 6, 3), (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
         (1, 7, 5, 0, 9, 8, 3, 4, 2, 6), (6, 1, 2, 3, 0, 4, 5, 9, 7, 8), (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
         (5, 8, 6, 9, 7, 2, 0, 1, 3, 4), (8, 9, 4, 5, 3, 6, 2, 0, 1, 7), (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
         (2, 5, 8, 1, 4, 3, 6, 7, 9, 0))


def damm_interim(prefix: str) -> int:
    interim = 0
    for c in prefix:
        interim = _DAMM[interim][ord(c) - 48]
    return interim


def damm_digit(body: str, interim: int = 0) -> str:
    """The check digit of `body`; `interim` carries the state after a prefix already checked."""
    for c in body:
        interim = _DAMM[interim][ord(c) - 48]
    return str(interim)


WORLD: World | None = None  # set in the parent before the workers fork


def load_chunk(task: tuple[str, int, int]) -> dict[str, float]:
    url, lo, hi = task
    t = time.perf_counter()
    chunk = Chunk(WORLD, lo, hi)
    chunk.build()
    generated = time.perf_counter() - t
    with psycopg.connect(url) as conn:
        conn.execute("SET synchronous_commit = off")
        cursor = conn.cursor()
        for table, columns, types, rows in (
                ("case", CASE_COLUMNS, CASE_TYPES, chunk.cases),
                ("case_clock", CLOCK_COLUMNS, CLOCK_TYPES, chunk.clocks),
                ("case_event", EVENT_COLUMNS, EVENT_TYPES, chunk.events),
                ("case_rating", RATING_COLUMNS, RATING_TYPES, chunk.ratings),
                ("extension_request", EXTENSION_COLUMNS, EXTENSION_TYPES, chunk.extensions)):
            with cursor.copy(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN (FORMAT BINARY)') as copy:
                copy.set_types(list(types))
                for row in rows:
                    copy.write_row(row)
    return {"generate": generated, "copy": time.perf_counter() - t - generated, "case": len(chunk.cases),
            "case_clock": len(chunk.clocks), "case_event": len(chunk.events), "case_rating": len(chunk.ratings),
            "extension_request": len(chunk.extensions)}


# --- the database around the load ------------------------------------------------------------------

def fresh_database(url: str, env: dict) -> None:
    name = database_name(url)
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    out = subprocess.run([str(BIN / "hotline"), "init"], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    if out.returncode:
        sys.exit(f"hotline init failed:\n{out.stdout}\n{out.stderr}")


def secondary_indexes(conn) -> dict[str, str]:
    """Indexes of the loaded tables that back no constraint (primary keys and UNIQUE stay in place)."""
    return dict(conn.execute("""
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
        WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1""", (list(LOADED),)).fetchall())


def foreign_keys(conn) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the foreign keys on the loaded tables."""
    return conn.execute("""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY 1, 2""",
                        (['"case"', *LOADED[1:]],)).fetchall()


def schema_of(conn) -> list[str]:
    return [row[0] for row in conn.execute("""
        SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s)
        UNION ALL SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = ANY(%s::regclass[])
        ORDER BY 1""", (list(LOADED), ['"case"', *LOADED[1:]]))]


def reference(url: str) -> tuple[dict[str, int], list[tuple], dict[str, int]]:
    """Bureau ids by code, the category leaves (axis, code, name) of the pack's goods and service lists,
    and a handler per bureau (created here, unable to log in), by bureau code."""
    with psycopg.connect(url) as conn:
        bureaus = dict(conn.execute("SELECT code, id FROM bureau").fetchall())
        handlers = dict(conn.execute("""
            INSERT INTO "user" (username, display_name, password_hash, role, bureau_id, active, created_at)
            SELECT 'bench-' || code, short_name || '承办人', '!', 'bureau', id, false, now() FROM bureau
            RETURNING substr(username, 7), id""").fetchall())
        leaves = conn.execute("""SELECT axis, code, name FROM category WHERE axis IN ('goods', 'service')
                                 AND parent_code IS NOT NULL ORDER BY axis, code""").fetchall()
    if not leaves:  # a pack that stores its lists flat
        pack = read_pack("anshan")["categories"]
        leaves = [(axis, c["code"], c["name"]) for axis in ("goods", "service") for g in pack[axis]
                  for c in g.get("children", [])]
    return bureaus, [tuple(row) for row in leaves], handlers


def table_sizes(conn) -> list[tuple[str, int, str]]:
    return conn.execute("""
        SELECT c.relname, c.reltuples::bigint, pg_size_pretty(pg_total_relation_size(c.oid))
        FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
          AND (c.relname = ANY(%s) OR c.relname LIKE 'stat\\_%%')
        ORDER BY pg_total_relation_size(c.oid) DESC""", (list(LOADED),)).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=2, help="processes generating and copying chunks")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default=DEFAULT_DB)
    args = parser.parse_args()
    name = database_name(args.database_url)
    if name in PROTECTED or name.endswith("_test"):
        sys.exit(f"refusing to drop database {name!r}")
    if args.cases < 1 or args.years < 1:
        sys.exit("--cases and --years must be positive")

    env = {**os.environ, "HOTLINE_DATABASE_URL": args.database_url, "HOTLINE_SECRET_KEY": "bench"}
    env.pop("HOTLINE_BROKER_URL", None)
    os.environ.update({k: env[k] for k in ("HOTLINE_DATABASE_URL", "HOTLINE_SECRET_KEY")})
    os.environ.pop("HOTLINE_BROKER_URL", None)

    steps: dict[str, float] = {}
    t = time.perf_counter()
    fresh_database(args.database_url, env)
    steps["hotline init"] = time.perf_counter() - t

    global WORLD
    t = time.perf_counter()
    WORLD = World(args.cases, args.years, args.seed, *reference(args.database_url))
    steps["businesses, calendar"] = time.perf_counter() - t
    print(f"{args.cases:,} cases received {WORLD.days[0]} .. {WORLD.days[WORLD.received_days - 1]}, "
          f"{len(WORLD.business):,} businesses", flush=True)

    with psycopg.connect(args.database_url, autocommit=True) as conn:
        before = schema_of(conn)
        indexes, fks = secondary_indexes(conn), foreign_keys(conn)
        for table, fk, _ in fks:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{fk}"')
        for index in indexes:
            conn.execute(f"DROP INDEX {index}")

    t = time.perf_counter()
    totals: dict[str, float] = {}
    tasks = [(args.database_url, lo, min(lo + CHUNK - 1, args.cases)) for lo in range(1, args.cases + 1, CHUNK)]
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        for i, done in enumerate(pool.imap_unordered(load_chunk, tasks), 1):
            for key, value in done.items():
                totals[key] = totals.get(key, 0) + value
            if i % max(1, len(tasks) // 10) == 0 or i == len(tasks):
                print(f"  {totals['case']:>12,.0f} cases loaded  {time.perf_counter() - t:7.1f} s", flush=True)
    steps["COPY (generate + copy)"] = time.perf_counter() - t

    with psycopg.connect(args.database_url, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        t = time.perf_counter()
        for definition in indexes.values():
            conn.execute(definition)
        for table, fk, definition in fks:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{fk}" {definition}')
        steps["indexes and keys"] = time.perf_counter() - t
        if schema_of(conn) != before:
            sys.exit("the indexes and keys after the load differ from the migrations'")
        for table in LOADED:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                         f"(SELECT coalesce(max(id), 0) + 1 FROM \"{table}\"), false)")
        t = time.perf_counter()
        conn.execute(f"VACUUM (ANALYZE) {', '.join(chr(34) + x + chr(34) for x in LOADED)}")
        steps["vacuum analyze"] = time.perf_counter() - t

    from hotline import create_app
    from hotline.extensions import db
    from hotline.stats import refresh
    app = create_app()
    with app.app_context():
        t = time.perf_counter()
        counted = refresh.rebuild()
        steps["stats rebuild (SQL)"] = time.perf_counter() - t
        db.session.remove()
        db.engine.dispose()
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        t = time.perf_counter()
        from hotline.stats.rebuild_pg import TABLES
        conn.execute(f"VACUUM (ANALYZE) {', '.join(TABLES)}")
        steps["vacuum stats"] = time.perf_counter() - t
        sizes = table_sizes(conn)

    print()
    print(f"seed bench (PostgreSQL {name}, {args.cases:,} cases over {args.years} years, {args.jobs} jobs)")
    for table in LOADED:
        print(f"  rows {table:<28}{int(totals.get(table, 0)):>14,}")
    print(f"  cases counted by the rebuild    {counted:>14,}")
    for step, secs in steps.items():
        print(f"  {step:<32}{secs:9.1f} s")
    print(f"  generating rows (CPU, all jobs) {totals['generate']:9.1f} s;  copying {totals['copy']:.1f} s")
    print("table sizes (rows estimated, with indexes):")
    for table, rows, size in sizes:
        print(f"  {table:<28}{rows:>14,}  {size:>10}")


if __name__ == "__main__":
    main()
