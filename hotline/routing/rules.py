"""Routing rules applied in order (DESIGN.md §2): address keywords, then division, category, kind.
Pure: takes the case's facts, the rules and the gazetteer, returns a decision with its reason."""
from dataclasses import dataclass

from hotline.routing.gazetteer import Gazetteer, normalise


@dataclass(frozen=True)
class Rule:
    position: int
    match: str  # keyword | division | category | kind
    value: str
    bureau_code: str
    bureau_name: str
    note: str | None = None

    @property
    def label(self) -> str:
        return f"#{self.position} {self.match}={self.value}"


def parse_label(label: str | None) -> tuple[int, str, str] | None:
    """(position, match, value) of a rule's label "#1010 division=210303"; None for anything else
    (a triage or manual decision), so pages can show the rule in words."""
    if not label or not label.startswith("#") or " " not in label:
        return None
    position, _, condition = label[1:].partition(" ")
    match, sep, value = condition.partition("=")
    if not position.isdigit() or not sep:
        return None
    return int(position), match, value


@dataclass(frozen=True)
class Facts:
    kind: str
    address: str | None
    platform: str | None = None
    platform_address: str | None = None  # the platform's registered address, if the platform is known
    categories: tuple[str, ...] = ()
    address_unreachable: bool = False  # the seller cannot be reached at the address the platform shows
    seller: bool = True  # a seller on the platform (平台内经营者), not the platform operator itself
    rulebook_version: str | None = None  # order-121 | order-20: which articles the reason cites


@dataclass(frozen=True)
class Decision:
    bureau_code: str | None  # None: triage
    rule: str
    reason: str
    division_code: str | None = None


# The articles on online sellers, by rulebook version: complaints (Order 121 art. 13, Order 20 art. 12)
# and reports (Order 121 art. 31, Order 20 art. 27).
_ARTICLES = {"order-121": ("总局令第121号", "第13条", "第31条"), "order-20": ("总局令第20号", "第12条", "第27条")}


def _basis(facts: Facts, kind: str) -> str:
    order, complaint, report = _ARTICLES.get(facts.rulebook_version or "order-121", _ARTICLES["order-121"])
    return f"依据{order}{complaint if kind == 'complaint' else report}"


def _online_address(facts: Facts) -> tuple[str, str, str] | Decision:
    """Where an online business is handled: (address, what the address is, the article) or triage.

    Complaints (art. 13): the platform operator itself by its registered address; a seller on the
    platform by the address the platform shows for it (公示地址, typed as the business address), else,
    when none is shown or the seller cannot be reached there, by the platform's registered address.
    Reports (art. 31): a seller by its actual place of business only, never the platform's address."""
    platform = facts.platform
    basis = _basis(facts, facts.kind)
    if not facts.seller:
        why = "平台经营者由其住所地处理"
        if facts.address:
            return facts.address, f"平台经营者“{platform}”住所地", f"{basis}，{why}"
    elif facts.kind == "report":
        if not facts.address:
            return Decision(None, "triage:seller-address-unknown",
                            f"{basis}，举报平台内经营者由其实际经营地处理，不按平台“{platform}”登记地址；"
                            "未写明实际经营地址，需人工分派")
        return facts.address, "平台内经营者实际经营地", f"{basis}，举报平台内经营者由其实际经营地处理"
    elif facts.address and not facts.address_unreachable:
        shown = "平台公示地址" if facts.rulebook_version != "order-20" else "实际经营地"
        return facts.address, f"平台内经营者{shown}", f"{basis}，投诉平台内经营者由其{shown}所在地处理"
    else:
        why = ("经营者通过平台公示的地址无法取得联系，由平台经营者住所地处理" if facts.address
               else "平台内经营者未公示地址，由平台经营者住所地处理")
    if not facts.platform_address:
        return Decision(None, "triage:platform-unknown",
                        f"{basis}，{why}，但平台“{platform}”的登记地址未知，需人工分派")
    return facts.platform_address, f"平台“{platform}”登记地址", f"{basis}，{why}"


def decide(facts: Facts, rules: list[Rule], gazetteer: Gazetteer) -> Decision:
    address, source, basis = facts.address, "经营者地址", None
    if facts.platform and facts.kind in ("complaint", "report"):
        found = _online_address(facts)
        if isinstance(found, Decision):
            return found
        address, source, basis = found
    elif not address and facts.platform:
        if not facts.platform_address:
            return Decision(None, "triage:platform-unknown",
                            f"网络经营者未公示地址，平台“{facts.platform}”的登记地址未知，需人工分派")
        address, source = facts.platform_address, f"平台“{facts.platform}”登记地址"
    if not address:
        return Decision(None, "triage:no-address", "没有经营者地址，无法确定管辖分局")
    decision = _by_address(facts, address, source, rules, gazetteer)
    if basis:  # the routing reason cites the article it follows
        return Decision(decision.bureau_code, decision.rule, f"{basis}：{decision.reason}", decision.division_code)
    return decision


def _by_address(facts: Facts, address: str, source: str, rules: list[Rule], gazetteer: Gazetteer) -> Decision:
    resolution = gazetteer.resolve(address)
    if resolution.outside:
        return Decision(None, "triage:outside-city",
                        f"{source}在{gazetteer.city.name}以外（{resolution.outside}），需指挥中心转办")
    text = normalise(address)
    division = resolution.division
    for rule in sorted(rules, key=lambda r: r.position):
        hit = None
        if rule.match == "keyword" and rule.value and rule.value in text:
            hit = f"{source}含“{rule.value}”"
        elif rule.match == "division" and division and division.code.startswith(rule.value):
            # Words, not codes: the supervisor reads this on the case (the code stays in the rule label).
            matched = resolution.matched
            place = division.name if matched == division.name else f"“{matched}”，属{division.name}"
            hit = f"{source}位于{place}"
        elif rule.match == "category" and any(code.startswith(rule.value) for code in facts.categories):
            hit = f"分类 {rule.value}"
        elif rule.match == "kind" and facts.kind == rule.value:
            hit = f"类型 {rule.value}"
        if hit:
            return Decision(rule.bureau_code, rule.label, f"{hit} → {rule.bureau_name}",
                            division.code if division else None)
    if division is None:
        return Decision(None, "triage:no-division", f"{source}“{address}”无法对应到{gazetteer.city.name}的区县")
    return Decision(None, "triage:no-rule", f"{division.name}没有对应的分派规则")
