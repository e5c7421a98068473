"""The console's form posts flat names (`consumer.phone`); this folds them into the API's shape,
so the page and `POST /api/v1/cases` share one validator and one set of field names."""
import copy

from werkzeug.datastructures import MultiDict

from hotline.cases.operations import check_registration
from hotline.cases.schemas import FieldErrors, parse_case

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


# The form's fields in the order they appear: the first wrong one gets the focus.
FIELD_ORDER = ("kind", "channel", "consumer.phone", "consumer.name", "consumer.anonymous", "consumer.address",
               "consumer.id_number", "business.name", "business.address", "business.uscc", "business.phone",
               "business.platform", "business.shop", "category.goods", "category.service", "category.issue",
               "subject", "description", "demand", "amount", "occurred_on", "received_at", "also_report",
               "answer", "answer_code", "station")
# What a required field is given while the rest of the form is checked (it keeps its own error).
PLACEHOLDERS = {"subject": "-"}


def _drop(payload: dict, path: str) -> bool:
    """Remove a wrong field so the other rules can be checked; False when it was not there (missing)."""
    *parents, leaf = path.split(".")
    target = payload
    for parent in parents:
        target = target.get(parent)
        if not isinstance(target, dict):
            return False
    if leaf in PLACEHOLDERS and len(parents) == 0:
        changed = target.get(leaf) != PLACEHOLDERS[leaf]
        target[leaf] = PLACEHOLDERS[leaf]
        return changed
    return target.pop(leaf, None) is not None


def all_field_errors(payload: dict, actor, now) -> dict[str, str]:
    """Every wrong field of a form at once, in form order. pydantic skips the rules between fields
    (a complaint needs a name) once a field is wrong, and the registration checks (dates, categories)
    need a valid case: so each wrong field is taken out and the rest checked again."""
    errors: dict[str, str] = {}
    payload = copy.deepcopy(payload)
    for _ in range(4):  # each round can only uncover rules of the next stage
        try:
            data = parse_case(payload)
        except FieldErrors as exc:
            new = {k: v for k, v in exc.fields.items() if k not in errors}
            errors.update(new)
            if not [path for path in new if _drop(payload, path)]:
                break
            continue
        try:
            check_registration(data, actor, now)
        except FieldErrors as exc:
            for path, message in exc.fields.items():
                errors.setdefault(path, message)
        break
    return in_form_order(errors)


def in_form_order(errors: dict[str, str]) -> dict[str, str]:
    rank = {name: i for i, name in enumerate(FIELD_ORDER)}
    return dict(sorted(errors.items(), key=lambda item: rank.get(item[0], -1 if item[0] == "" else len(rank))))
