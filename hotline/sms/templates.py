"""The SMS templates, registered in the region pack (`sms_templates.json`): each message is a template
code with named parameters, as Chinese gateways require, and each template carries the note of how
its text and the signature were approved. `TEMPLATES` maps a code to the text a consumer reads."""
import json
import os
import string
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REGIONS = Path(__file__).resolve().parent.parent / "regions"

# The outcome of a closed case as the consumer reads it (CASE_CLOSED's `outcome`).
OUTCOME_TEXT = {"mediated": "调解成功", "terminated": "终止调解", "case_filed": "已立案", "no_case": "不予立案",
                "answered": "已答复", "withdrawn": "已撤回", "declined": "不予受理", "transferred": "已移送"}


@dataclass(frozen=True)
class Template:
    code: str
    kind: str
    text: str  # without the signature; the gateway adds 【sign】 itself
    approval: str
    params: tuple[str, ...]


@dataclass(frozen=True)
class Registry:
    sign_name: str
    signature_note: str
    templates: dict[str, Template]

    def render(self, code: str, params: dict) -> str:
        """The text as it reaches the phone: 【signature】 and the filled template."""
        return f"【{self.sign_name}】" + self.templates[code].text.format(**params)


@cache
def registry(region: str | None = None) -> Registry:
    region = region or os.environ.get("HOTLINE_REGION") or "anshan"
    data = json.loads((REGIONS / region / "sms_templates.json").read_text("utf-8"))
    templates = {}
    for entry in data["templates"]:
        names = tuple(name for _, name, _, _ in string.Formatter().parse(entry["text"]) if name)
        templates[entry["code"]] = Template(entry["code"], entry["kind"], entry["text"], entry["approval"], names)
    return Registry(data["sign_name"], data["signature_note"], templates)


def outcome_text(outcome: str) -> str:
    return OUTCOME_TEXT.get(outcome, outcome)


# Code → the text a consumer reads (with the signature), for `.format(**params)`.
TEMPLATES = {code: f"【{registry().sign_name}】{t.text}" for code, t in registry().templates.items()}
