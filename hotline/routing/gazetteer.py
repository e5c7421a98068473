"""Address → administrative division (GB/T 2260), from the region pack's own divisions.

Pure: a Gazetteer is built from plain rows and answers `resolve(address)`. We match names and
aliases from the pack rather than parse addresses with a general library: the pack already names
every district, street and town the city's routing needs, and what it cannot place goes to triage
with the reason, which is the safe failure (see docs/decisions.md)."""
import re
import unicodedata
from dataclasses import dataclass

# Province-level divisions (full and short names), to recognise an address in another province.
PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建",
    "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏",
    "陕西", "甘肃", "青海", "宁夏", "新疆", "台湾", "香港", "澳门",
)
_CITY_TOKEN = re.compile(r"([\u4e00-\u9fff]{2,6}?(?:市|自治州|地区|盟))(?!场)")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    parent: str | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolution:
    division: Division | None
    matched: str | None  # the text in the address that placed it
    outside: str | None  # why the address is outside the city, if it is


def normalise(address: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", address or ""))


class Gazetteer:
    def __init__(self, divisions: list[Division], city_code: str):
        self.city = next(d for d in divisions if d.code == city_code)
        self.province = next((d for d in divisions if d.code == self.city.parent), None)
        prefix = city_code.rstrip("0")[:4]
        self.local = [d for d in divisions if d.code.startswith(prefix) and d.code != city_code]
        self.other_cities = [d for d in divisions if d.parent == (self.province.code if self.province else None)
                             and d.code != city_code]
        self._local_names = {d.name for d in self.local} | {self.city.name}

    def _outside(self, text: str) -> str | None:
        own_province = self.province.name[:2] if self.province else ""
        for name in PROVINCES:
            if name == own_province:
                continue
            if (name + "省") in text or (name + "自治区") in text or text.startswith(name):
                return name
        for city in self.other_cities:
            if city.name in text or text.startswith(city.name.rstrip("市")):
                return city.name
        stripped = text
        if self.province:
            stripped = re.sub(rf"^{self.province.name[:2]}(省)?", "", stripped)
        match = _CITY_TOKEN.match(stripped)
        if match and match.group(1) not in self._local_names:
            return match.group(1)
        return None

    def resolve(self, address: str) -> Resolution:
        text = normalise(address)
        if not text:
            return Resolution(None, None, None)
        outside = self._outside(text)
        if outside:
            return Resolution(None, outside, outside)
        best: tuple[int, int, Division, str] | None = None
        for division in self.local:
            for name in (division.name, *division.aliases):
                position = text.find(name)
                if name and position >= 0:
                    # Deeper divisions (streets, towns) win over districts; then the longer name.
                    key = (len(division.code), len(name), division, name)
                    if best is None or key[:2] > best[:2]:
                        best = key
        if best is None:
            return Resolution(None, None, None)
        division, name = best[2], best[3]
        # A street named in a district other than the one the address names is ambiguous: keep the district.
        districts = [d for d in self.local if len(d.code) == 6 and (d.name in text)]
        if len(division.code) > 6 and districts and division.parent not in {d.code for d in districts}:
            district = districts[0]
            return Resolution(district, district.name, None)
        return Resolution(division, name, None)

    def district_of(self, division: Division) -> Division | None:
        """The district or county (6-digit code) a street or town belongs to."""
        if len(division.code) == 6:
            return division
        return next((d for d in self.local if d.code == division.code[:6]), None)
