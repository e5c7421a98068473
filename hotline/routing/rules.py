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


@dataclass(frozen=True)
class Decision:
    bureau_code: str | None  # None: triage
    rule: str
    reason: str
    division_code: str | None = None


def decide(facts: Facts, rules: list[Rule], gazetteer: Gazetteer) -> Decision:
    address, source = facts.address, "经营者地址"
    if not address and facts.platform:
        if not facts.platform_address:
            return Decision(None, "triage:platform-unknown",
                            f"网络经营者未公示地址，平台“{facts.platform}”的登记地址未知，需人工分派")
        address, source = facts.platform_address, f"平台“{facts.platform}”登记地址"
    if not address:
        return Decision(None, "triage:no-address", "没有经营者地址，无法确定管辖分局")
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
            hit = f"{source}“{resolution.matched}”属区划 {division.code} {division.name}"
        elif rule.match == "category" and any(code.startswith(rule.value) for code in facts.categories):
            hit = f"分类 {rule.value}"
        elif rule.match == "kind" and facts.kind == rule.value:
            hit = f"类型 {rule.value}"
        if hit:
            return Decision(rule.bureau_code, rule.label, f"{hit} → {rule.bureau_name}",
                            division.code if division else None)
    if division is None:
        return Decision(None, "triage:no-division", f"{source}“{address}”无法对应到{gazetteer.city.name}的区县")
    return Decision(None, "triage:no-rule", f"区划 {division.code} {division.name} 没有对应的分派规则")
