"""What a real gateway needs from the configuration (HOTLINE_SMS_* environment variables, config.py).

HOTLINE_SMS_TEMPLATES maps our template codes to the gateway's approved template ids, as JSON:
    {"CASE_RECEIPT": "SMS_123456789", ...}                                    (Aliyun: named parameters)
    {"CASE_RECEIPT": {"id": "1234567", "params": ["kind", "number", "code"]}}  (Tencent: {1}, {2}, {3})
Tencent's parameters are positional; without "params" their order is the order the placeholders
appear in the template registered in the region pack (hotline/sms/templates.py). The signature
defaults to the region pack's."""
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from hotline.sms.gateways.base import GatewayError


@dataclass(frozen=True)
class Template:
    id: str
    params: tuple[str, ...] | None = None  # positional order (Tencent)


@dataclass(frozen=True)
class GatewaySettings:
    key_id: str | None = None  # Aliyun AccessKey ID; Tencent SecretId
    key_secret: str | None = None  # Aliyun AccessKey secret; Tencent SecretKey
    sign_name: str | None = None  # the approved signature (签名), e.g. 鞍山12315
    templates: Mapping[str, Template] = field(default_factory=dict)
    region: str | None = None  # Aliyun cn-hangzhou; Tencent ap-guangzhou
    endpoint: str | None = None  # host, or http(s)://host:port; None: the SDK's own
    app_id: str | None = None  # Tencent SmsSdkAppId
    extend_code: str | None = None  # 扩展码, routes replies to us when several apps share a signature
    timeout: float = 10.0  # seconds

    def template(self, code: str) -> Template:
        template = self.templates.get(code)
        if template is None:  # a configuration gap: fail visibly with a code staff can read
            raise GatewayError("TEMPLATE_NOT_CONFIGURED", f"no gateway template for {code}", temporary=False)
        return template

    def host_and_protocol(self) -> tuple[str | None, str]:
        if not self.endpoint:
            return None, "https"
        if "://" in self.endpoint:
            parts = urlsplit(self.endpoint)
            return parts.netloc, parts.scheme
        return self.endpoint, "https"

    def positional(self, code: str, params: Mapping[str, str]) -> list[str]:
        """Tencent's TemplateParamSet: the values in the template's placeholder order."""
        order = self.template(code).params or registry_order(code)
        if order is None:
            raise GatewayError("TEMPLATE_PARAMS_ORDER", f"no parameter order for {code}", temporary=False)
        missing = [name for name in order if name not in params]
        if missing:
            raise GatewayError("TEMPLATE_MISSING_PARAMETERS", ", ".join(missing), temporary=False)
        return [str(params[name]) for name in order]


def parse_templates(raw: str | Mapping | None) -> dict[str, Template]:
    """HOTLINE_SMS_TEMPLATES → {code: Template}; a malformed value stops the gateway from starting."""
    if not raw:
        return {}
    data = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(data, Mapping):
        raise ValueError("HOTLINE_SMS_TEMPLATES must be a JSON object of template code → gateway template id")
    templates = {}
    for code, value in data.items():
        if isinstance(value, str):
            templates[code] = Template(value)
        elif isinstance(value, Mapping) and isinstance(value.get("id"), str):
            params = value.get("params")
            if params is not None and not (isinstance(params, list) and all(isinstance(p, str) for p in params)):
                raise ValueError(f"HOTLINE_SMS_TEMPLATES[{code}].params must be a list of parameter names")
            templates[code] = Template(value["id"], tuple(params) if params is not None else None)
        else:
            raise ValueError(f"HOTLINE_SMS_TEMPLATES[{code}] must be a template id or "
                             '{"id": ..., "params": [...]}')
    return templates


def settings_from_config(config: Mapping) -> GatewaySettings:
    return GatewaySettings(
        key_id=config.get("SMS_ACCESS_KEY_ID"), key_secret=config.get("SMS_ACCESS_KEY_SECRET"),
        sign_name=config.get("SMS_SIGN_NAME") or _registry_sign_name(),
        templates=parse_templates(config.get("SMS_TEMPLATES")),
        region=config.get("SMS_REGION"), endpoint=config.get("SMS_ENDPOINT"), app_id=config.get("SMS_APP_ID"),
        extend_code=config.get("SMS_EXTEND_CODE"), timeout=float(config.get("SMS_TIMEOUT") or 10))


def registry_order(code: str) -> tuple[str, ...] | None:
    """The placeholders of the template registered in the region pack, in order ({kind}, {number}, {code} → 1, 2, 3)."""
    from hotline.sms.templates import registry
    template = registry().templates.get(code)
    return template.params if template else None


def _registry_sign_name() -> str:
    from hotline.sms.templates import registry
    return registry().sign_name
