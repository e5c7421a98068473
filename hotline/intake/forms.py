"""The console's form posts flat names (`consumer.phone`); this folds them into the API's shape,
so the page and `POST /api/v1/cases` share one validator and one set of field names."""
from werkzeug.datastructures import MultiDict

CHECKBOXES = {"consumer.anonymous", "also_report"}
SKIP = {"csrf_token"}


def form_to_payload(form: MultiDict) -> dict:
    payload: dict = {}
    for name, value in form.items():
        if name in SKIP:
            continue
        if name in CHECKBOXES:
            value = value in ("on", "1", "true", "y")
        elif value.strip() == "":
            continue
        target = payload
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    for name in CHECKBOXES:
        if name not in form:
            *parents, leaf = name.split(".")
            target = payload
            for parent in parents:
                target = target.setdefault(parent, {})
            target[leaf] = False
    return payload
