"""Choosing the SMS gateway: `HOTLINE_SMS_BACKEND` names it (`log`, `aliyun`, `tencent`), or gives
`package.module:Factory` for a gateway of one's own (tests use this for a worker in another process).
Backends are imported only when chosen, so an installation without one SDK still runs the others.
One gateway object per app and backend: SDK clients keep their connections."""
import importlib
from collections.abc import Mapping

from flask import Flask, current_app

from hotline.sms.gateways.base import DeliveryStatus, Gateway, GatewayError, SendResult

__all__ = ["DeliveryStatus", "Gateway", "GatewayError", "SendResult", "get_gateway", "register_gateway"]
BACKENDS = {"log": "hotline.sms.gateways.log:LogGateway", "aliyun": "hotline.sms.gateways.aliyun:AliyunGateway",
            "tencent": "hotline.sms.gateways.tencent:TencentGateway"}
_CACHE = "sms_gateways"


def get_gateway(app: Flask | None = None, name: str | None = None) -> Gateway:
    """The gateway named `name` (default: the configured backend)."""
    app = app or current_app._get_current_object()
    name = name or app.config["SMS_BACKEND"]
    gateways = app.extensions.setdefault(_CACHE, {})
    if name not in gateways:
        gateways[name] = build(name, app.config)
    return gateways[name]


def register_gateway(app: Flask, gateway: Gateway, name: str | None = None) -> Gateway:
    """Use this object for backend `name` (its own `name` by default): tests, and a gateway built by hand."""
    app.extensions.setdefault(_CACHE, {})[name or gateway.name] = gateway
    return gateway


def build(name: str, config: Mapping) -> Gateway:
    target = BACKENDS.get(name, name)
    if ":" not in target:
        raise ValueError(f"unknown SMS backend {name!r}: use one of {', '.join(BACKENDS)} or package.module:Factory")
    module_name, attribute = target.split(":", 1)
    factory = getattr(importlib.import_module(module_name), attribute)
    # A class with from_config (the real backends), or any callable taking the configuration.
    return factory.from_config(config) if hasattr(factory, "from_config") else factory(config)
