"""Every answer the test suite gets from the API is checked against the OpenAPI document (issue #13, must
show 2): the route and method are documented, the status is one the operation lists, the content type is
one it names, and a JSON body validates against the schema of that status. tests/conftest.py calls
`check` after each request of the test client, so a response that drifts from its model fails the test that
made it, with the request named.

Cheap across the whole suite: the document is built once, each (operation, status) schema compiled once
(jsonschema_rs), and a route found with the app's own URL map."""
import re

import jsonschema_rs
from werkzeug.exceptions import HTTPException

from hotline.api.openapi import document

CHECKED = ("/api/", "/open311/")
_RULE_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def path_key(rule: str) -> str:
    """A Flask rule as an OpenAPI path: `/cases/<number>` → `/cases/{number}`."""
    return _RULE_VARIABLE.sub(r"{\1}", rule)


class Conformance:
    def __init__(self, app):
        self.app = app
        self.document = document()
        self.validators: dict[tuple, jsonschema_rs.Validator] = {}

    def _validator(self, key: tuple, schema: dict):
        validator = self.validators.get(key)
        if validator is None:
            validator = jsonschema_rs.Draft202012Validator({**schema, "components": self.document["components"]},
                                                           validate_formats=True)
            self.validators[key] = validator
        return validator

    def _resolve(self, item: dict) -> dict:
        while "$ref" in item:
            target = self.document
            for part in item["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            item = target
        return item

    def check(self, response) -> str | None:
        """What is wrong with this response, or None."""
        environ = response.request.environ
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if not path.startswith(CHECKED) or method in ("HEAD", "OPTIONS"):
            return None
        where = f"{method} {path} → {response.status_code}"
        try:
            rule, _ = self.app.url_map.bind_to_environ(environ).match(return_rule=True)
        except HTTPException:  # no such route or method (404, 405): the error shape still holds
            return self._body(where, ("no route",), {"$ref": "#/components/schemas/Error"}, response) \
                if path.startswith("/api/") else None
        key = path_key(rule.rule)
        operation = self.document["paths"].get(key, {}).get(method.lower())
        if operation is None:
            return f"{where}: {method} {key} is not in the OpenAPI document"
        status = str(response.status_code)
        documented = operation["responses"].get(status)
        if documented is None:
            if status == "500":  # a server error is a bug the test itself reports; its shape is still the API's
                return self._body(where, ("500",), {"$ref": "#/components/schemas/Error"}, response)
            return f"{where}: status {status} is not documented for {method} {key} " \
                   f"(documented: {', '.join(operation['responses'])})"
        content = self._resolve(documented).get("content", {})
        if response.mimetype not in content:
            return f"{where}: content type {response.mimetype} is not documented (documented: {', '.join(content)})"
        schema = content[response.mimetype].get("schema")
        if schema is None or response.mimetype != "application/json":
            return None
        return self._body(where, (key, method, status), schema, response)

    def _body(self, where: str, key: tuple, schema: dict, response) -> str | None:
        if response.mimetype != "application/json":
            return f"{where}: an API answer must be JSON, not {response.mimetype}"
        body = response.get_json(silent=True)
        errors = [f"  at /{'/'.join(str(p) for p in e.instance_path)}: {e.message}"
                  for e in self._validator(key, schema).iter_errors(body)]
        if not errors:
            return None
        return f"{where}: the body does not match the OpenAPI document ({schema.get('$ref', 'inline schema')}):\n" + \
            "\n".join(errors[:10])
