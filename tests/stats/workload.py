"""A seeded random workload for the statistics agreement test (issue #11, "Must show" 1): cases received
over about fourteen months and taken through random workflows with the app's own operations only
(registration, the routing job, workflow actions, ratings, the deadline sweep), under a simulated clock.

Nothing here writes a case row directly: every change goes through the code a request or a worker runs."""
import heapq
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from stdnum.cn import uscc

from hotline import types
from hotline.auth.operations import create_user
from hotline.cases import extension_requests
from hotline.cases.actions import ActionInput, take_action
from hotline.cases.models import Case
from hotline.cases.operations import register_case
from hotline.cases.schemas import parse_case
from hotline.deadlines.sweep import sweep
from hotline.extensions import db
from hotline.outbox import relay
from hotline.outbox.models import OutboxJob
from hotline.portal.ratings import rate_case
from hotline.reference.models import Bureau, Category, Station, StatutoryGround
from hotline.stats import queries, refresh

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "Workload-password-2026"
KINDS = ("complaint",) * 50 + ("report",) * 22 + ("consultation",) * 20 + ("suggestion",) * 8
CHANNELS = ("phone",) * 40 + ("web",) * 20 + ("station",) * 12 + ("walk_in",) * 10 + ("letter",) * 8 + \
    ("national_platform",) * 10
# Where businesses are: one address per bureau's area, and two the router cannot place (triage).
ADDRESSES = ("辽宁省鞍山市铁东区园林路12号", "辽宁省鞍山市铁西区人民路88号", "辽宁省鞍山市立山区胜利北路5号",
             "辽宁省鞍山市千山区千山镇政府街1号", "辽宁省鞍山市台安县台安镇中心街3号",
             "辽宁省鞍山市岫岩满族自治县岫岩镇北大街6号",
             "辽宁省海城市海州管理区中街9号", "辽宁省鞍山市高新区越岭路21号", "辽宁省鞍山市达道湾工业园区2号",
             "沈阳市和平区中山路1号", "北京市朝阳区建国路1号")
PLATFORMS = ("淘宝", "京东", "拼多多", "抖音", "美团")


def _uscc(serial: int) -> str:
    body = f"91210300MA0Y{serial:05d}"
    return body + uscc.calc_check_digit(body)


@dataclass(frozen=True)
class Business:
    """One business as callers name it: several spellings (full-width, spaces, case) of one name,
    or a USCC that identifies it whatever name is given."""

    spellings: tuple[str, ...]
    address: str | None
    uscc: str | None = None
    platform: str | None = None


BUSINESSES = (
    Business(("鞍山华联超市", "鞍山华联 超市", "鞍山　华联超市"), ADDRESSES[0]),
    Business(("ABC数码城", "ＡＢＣ数码城", "abc 数码城"), ADDRESSES[1]),
    Business(("铁西万达影城", "铁西万达 影城"), ADDRESSES[1], _uscc(1)),
    Business(("立山大药房", "立山大药房（胜利店）"), ADDRESSES[2], _uscc(2)),
    Business(("千山温泉度假村",), ADDRESSES[3]),
    Business(("台安农贸市场", "台安 农贸市场"), ADDRESSES[4]),
    Business(("岫岩玉器城",), ADDRESSES[5], _uscc(3)),
    Business(("海城西柳服装市场", "海城西柳服装 市场", "海城西柳服装市场!"), ADDRESSES[6]),
    Business(("高新区智慧家电", "高新区 智慧家电"), ADDRESSES[7], _uscc(4)),
    Business(("达道湾汽车城",), ADDRESSES[8]),
    Business(("沈阳某商贸公司", "沈阳 某商贸公司"), ADDRESSES[9]),
    Business(("Ｋ歌之王KTV", "K歌之王ktv", "k歌之王 KTV"), ADDRESSES[0]),
    Business(("优品旗舰店", "优品 旗舰店"), ADDRESSES[1], platform="淘宝"),
    Business(("鲜果到家",), None, platform="美团"),
    Business(("潮流服饰专营店", "潮流服饰 专营店"), ADDRESSES[6], _uscc(5), platform="抖音"),
    Business(("京东自营数码",), None, platform="京东"),
    Business(("驾考无忧培训学校",), ADDRESSES[2], _uscc(6)),
    Business(("鞍山移动营业厅", "鞍山 移动营业厅"), ADDRESSES[0]),
)


class SimClock:
    """The workload's "now": every module of the app that reads `utcnow` reads this instead."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def freeze_time(monkeypatch, clock: SimClock) -> None:
    """Point each app module's `utcnow` (imported by name) and the dashboard's idea of today at the clock."""
    original = types.utcnow
    for name, module in list(sys.modules.items()):
        if name.startswith("hotline") and getattr(module, "utcnow", None) is original:
            monkeypatch.setattr(module, "utcnow", clock)
    monkeypatch.setattr(queries, "today", lambda: clock().astimezone(SHANGHAI).date())


@dataclass
class Actors:
    operator: object
    supervisor: object
    bureau: dict = field(default_factory=dict)  # bureau id -> a handler there


def make_actors() -> Actors:
    actors = Actors(create_user("wl-operator", PASSWORD, "operator"),
                    create_user("wl-supervisor", PASSWORD, "supervisor"))
    for bureau in db.session.scalars(select(Bureau).where(Bureau.active).order_by(Bureau.code)):
        actors.bureau[bureau.id] = create_user(f"wl-{bureau.code}", PASSWORD, "bureau", bureau_code=bureau.code)
    db.session.commit()
    return actors


@dataclass
class Tally:
    """What the workload did, so that a run can be seen to exercise every path."""

    actions: dict = field(default_factory=dict)

    def add(self, name: str) -> None:
        self.actions[name] = self.actions.get(name, 0) + 1


class Workload:
    """Runs `cases` random cases received between `start` and `end` (aware datetimes), in time order."""

    def __init__(self, rng, clock: SimClock, start: datetime, end: datetime, cases: int):
        self.rng, self.clock, self.start, self.end, self.cases = rng, clock, start, end, cases
        self.actors = make_actors()
        self.bureau_codes = dict(db.session.execute(select(Bureau.id, Bureau.code).where(Bureau.active)
                                                   .order_by(Bureau.code)).all())
        self.stations = list(db.session.scalars(select(Station.code).where(Station.active).order_by(Station.code)))
        categories = db.session.execute(select(Category.axis, Category.code).order_by(Category.code)).all()
        self.goods = [code for axis, code in categories if axis == "goods"]
        self.services = [code for axis, code in categories if axis == "service"]
        self.grounds: dict[tuple[str, str], list[str]] = {}
        for version, purpose, code in db.session.execute(
                select(StatutoryGround.version, StatutoryGround.purpose, StatutoryGround.code)
                .where(StatutoryGround.active).order_by(StatutoryGround.code)):
            self.grounds.setdefault((version, purpose), []).append(code)
        self.tally = Tally()
        self._queue: list = []
        self._seq = 0
        self._uncommitted = 0

    def _done(self) -> None:
        """A step is done: commit every few steps, as the steps of many requests would be by now (a commit per
        step costs an fsync each on SQLite, and the test has thousands)."""
        self._uncommitted += 1
        if self._uncommitted >= 25:
            self._commit()

    def _commit(self) -> None:
        db.session.commit()
        self._uncommitted = 0

    # --- the timeline ---------------------------------------------------------------------------

    def _at(self, when: datetime, what: str, case_id: int | None = None) -> None:
        if when <= self.end:
            self._seq += 1
            heapq.heappush(self._queue, (when, self._seq, what, case_id))

    def _later(self, now: datetime, days: float) -> datetime:
        return now + timedelta(seconds=int(days * 86400) + self.rng.randint(60, 3600))

    def _arrival_times(self) -> list[datetime]:
        span = (self.end - self.start).total_seconds()
        times = []
        for _ in range(self.cases):
            at = self.start + timedelta(seconds=self.rng.uniform(0, span))
            local = at.astimezone(SHANGHAI)
            if self.rng.random() < 0.08:  # near local midnight: the day a case counts on must be the local one
                edge = self.rng.choice((time(23, 59, 30), time(0, 0, 20), time(23, 50), time(0, 5)))
                local = datetime.combine(local.date(), edge, tzinfo=SHANGHAI)
            times.append(min(local.astimezone(UTC), self.end))
        for _ in range(min(12, self.cases // 10)):  # some intake today, for today's figures
            times.append(self.end - timedelta(seconds=self.rng.randint(60, 3 * 3600)))
        return times

    def run(self, drain_every: int = 20) -> Tally:
        for at in self._arrival_times():
            self._at(at, "arrive")
        at = self.start + timedelta(days=3)
        while at < self.end:
            self._at(at, "sweep")
            at += timedelta(days=self.rng.uniform(4, 9))
        steps = 0
        while self._queue:
            when, _seq, what, case_id = heapq.heappop(self._queue)
            self.clock.now = when
            if what in ("sweep", "route"):
                self._commit()  # these commit (or roll back) the session themselves
            if what == "arrive":
                self._arrive(when)
            elif what == "sweep":
                sweep(when)
                self.tally.add("sweep")
            elif what == "route":
                self._route(case_id, when)
            elif what == "rate":
                self._rate(case_id, when)
            else:
                self._step(case_id, when)
            steps += 1
            if steps % drain_every == 0 and self.rng.random() < 0.3:
                self._commit()
                refresh.drain()  # counted now and then meanwhile: later changes are differences
        self._commit()
        self.clock.now = self.end
        sweep(self.end)
        return self.tally

    # --- intake ---------------------------------------------------------------------------------

    def _payload(self, now: datetime) -> dict:
        rng = self.rng
        kind, channel = rng.choice(KINDS), rng.choice(CHANNELS)
        received = now
        if channel in ("letter", "national_platform") and rng.random() < 0.6:
            received = max(self.start, now - timedelta(hours=rng.uniform(1, 72)))  # logged after it arrived
        body = {"kind": kind, "channel": channel, "received_at": received.isoformat(),
                "consumer": {"name": rng.choice(("张三", "李四", "王五", "赵六", "刘七")),
                             "phone": f"139{rng.randint(0, 399):04d}{rng.randint(0, 9999):04d}"},
                "subject": rng.choice(("质量问题", "虚假宣传", "价格欺诈", "售后服务", "合同纠纷")),
                "description": "消费者反映的情况。"}
        if channel == "station":
            body["station"] = rng.choice(self.stations)
        if kind in ("complaint", "report") or rng.random() < 0.4:
            body["business"] = self._business()
        if rng.random() < 0.85:
            body["category"] = self._category()
        if kind == "complaint":
            body.update(amount=f"{rng.randint(20, 5000)}.{rng.randint(0, 99):02d}", demand="退款",
                        also_report=rng.random() < 0.04)
        elif kind == "report" and rng.random() < 0.2:
            body["consumer"]["anonymous"] = True
        elif kind in ("consultation", "suggestion") and rng.random() < 0.3:
            body["answer"] = "已当场答复。"
        return body

    def _business(self) -> dict:
        rng = self.rng
        if rng.random() < 0.15:  # the long tail: businesses named once
            return {"name": f"个体商户{rng.randint(1, 400)}号", "address": rng.choice(ADDRESSES)}
        business = rng.choice(BUSINESSES)
        body = {"name": rng.choice(business.spellings)}
        if business.address and rng.random() < 0.95:
            body["address"] = business.address
        if business.uscc:
            body["uscc"] = business.uscc.lower() if rng.random() < 0.2 else business.uscc
        if business.platform:
            body.update(platform=business.platform, shop=body["name"])
        elif rng.random() < 0.05:
            body["platform"] = rng.choice(PLATFORMS)
        return body

    def _category(self) -> dict:
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            return {"goods": rng.choice(self.goods)}
        if roll < 0.9:
            return {"service": rng.choice(self.services)}
        return {"goods": rng.choice(self.goods), "service": rng.choice(self.services)}

    def _arrive(self, now: datetime) -> None:
        registered = register_case(parse_case(self._payload(now)), self.actors.operator, now)
        self._done()
        self.tally.add("register")
        for one in (registered, registered.linked):
            if one is not None:
                self._next(one.case, now)

    # --- what happens next ----------------------------------------------------------------------

    def _next(self, case: Case, now: datetime) -> None:
        """Schedule the case's next step (or none: some cases stay where they are)."""
        rng = self.rng
        status = case.status
        if status == "registered":
            roll = rng.random()
            if roll < 0.9:
                self._at(self._later(now, rng.choice((0, 0, 0, 0.01, 0.1, 1.5))), "route", case.id)
            elif roll < 0.98:
                self._at(self._later(now, rng.uniform(0, 2)), "step", case.id)  # the centre acts before routing
            return
        if status == "closed":
            if case.outcome not in ("transferred", "merged") and rng.random() < (0.55 if case.kind == "complaint"
                                                                                    else 0.08):
                self._at(self._later(now, rng.uniform(0, 12)), "rate", case.id)
            return
        if rng.random() < 0.06:
            return  # left open
        late = rng.random() < 0.15  # past its deadline: overdue, and counted as late
        if status == "accepted":
            days = rng.uniform(40, 90) if late else rng.uniform(2, 40)
        elif status == "verifying":
            days = rng.uniform(22, 50) if late else rng.uniform(2, 18)
        elif status == "suspended":
            days = rng.uniform(3, 30)
        else:
            days = rng.uniform(8, 25) if late else rng.expovariate(1 / 2.5)
        self._at(self._later(now, days), "step", case.id)

    def _route(self, case_id: int, now: datetime) -> None:
        job_id = db.session.scalar(select(OutboxJob.id).where(OutboxJob.dedupe_key == f"route_case:{case_id}"))
        relay.execute_job(job_id)
        self.tally.add("route")
        self._next(db.session.get(Case, case_id), now)

    def _rate(self, case_id: int, now: datetime) -> None:
        case = db.session.get(Case, case_id)
        score = self.rng.choice((1, 2, 3, 4, 4, 5, 5, 5))
        rate_case(case, score, None, self.rng.random() < 0.5 if score <= 2 else None, now)
        self._done()
        self.tally.add("rate")

    def _ground(self, case: Case, purpose: str) -> str:
        return self.rng.choice(self.grounds[(case.rulebook_version, purpose)])

    def _choose(self, case: Case) -> tuple[str, object, dict]:
        """(action, actor, fields) for the case as it stands."""
        rng, actors = self.rng, self.actors
        handler = actors.bureau.get(case.bureau_id)
        kind, status = case.kind, case.status
        options: list[tuple[float, str, object, dict]] = [(0.05, "withdraw", actors.operator, {})]
        if status in ("registered", "triage"):
            options += [(0.7, "assign", actors.supervisor, {"bureau": rng.choice(list(self.bureau_codes.values()))}),
                         (0.15, "transfer_out", actors.supervisor, {"receiver": "沈阳市12315指挥中心"})]
            if kind in ("consultation", "suggestion"):
                options.append((0.3, "answer", actors.operator, {"reason": "已答复。"}))
        elif status == "pending":
            if not case.assignment_final:
                options.append((0.1, "return_to_centre", handler, {"reason": "不属于本局管辖"}))
            if kind == "complaint":
                options += [(0.6, "accept", handler, {}),
                            (0.15, "decline", handler, {"reason": self._ground(case, "decline")})]
            elif kind == "report":
                options += [(0.55, "start_verification", handler, {}),
                            (0.15, "decline", handler, {"reason": self._ground(case, "report_decline")})]
                options += self._extension_options(case, handler)
            else:
                options.append((0.8, "answer", handler, {"reason": "已答复。"}))
        elif status == "accepted":
            amount = case.amount or Decimal("100.00")
            recovered = (amount * Decimal(rng.choice(("0", "0.3", "0.5", "1", "1")))).quantize(Decimal("0.01"))
            options += [(0.55, "settle", handler, {"recovered_amount": str(recovered)}),
                        (0.2, "terminate", handler, {"reason": self._ground(case, "terminate")}),
                        (0.1, "suspend", handler, {"reason": rng.choice(("testing", "recusal"))}),
                        (0.03, "refer_violation", handler, {"note": "调解中发现涉嫌虚假宣传"})]
        elif status == "suspended":
            options += [(0.7, "resume", handler, {}),
                        (0.2, "terminate", handler, {"reason": self._ground(case, "terminate")})]
        elif status == "verifying":
            options += [(0.4, "file_case", handler, {}),
                        (0.35, "no_case", handler, {"reason": self._ground(case, "no_case")})]
            options += self._extension_options(case, handler)
        total = sum(weight for weight, *_ in options)
        roll = rng.uniform(0, total)
        for weight, action, actor, fields in options:
            roll -= weight
            if roll <= 0:
                return action, actor, fields
        return options[-1][1:]

    def _extension_options(self, case: Case, handler) -> list:
        state = extension_requests.extension_state(case)
        if state == "available":
            return [(0.2, "request_extension", handler, {"reason": "案情复杂，需延期核查"}),
                    (0.03, "extend", self.actors.supervisor, {"reason": "指挥中心直接延期"})]
        if state == "pending":  # the centre decides first, whatever else is offered
            return [(5.0, "approve_extension", self.actors.supervisor, {}),
                    (2.0, "refuse_extension", self.actors.supervisor, {"reason": "理由不充分"})]
        return []

    def _step(self, case_id: int, now: datetime) -> None:
        case = db.session.get(Case, case_id)
        if case.status == "closed":
            return
        action, actor, fields = self._choose(case)
        taken = take_action(case, actor, ActionInput(action=action, **fields))
        self._done()
        self.tally.add(action)
        if action == "request_extension":  # the centre decides soon
            self._at(self._later(now, self.rng.uniform(0.1, 3)), "step", case_id)
            return
        if taken.linked is not None:  # refer_violation: the report it opened is verified in its turn
            self._next(taken.linked, now)
        self._next(case, now)
