"""The console's form posts flat names (`consumer.phone`); this folds them into the API's shape,
so the page and `POST /api/v1/cases` share one validator and one set of field names."""
import copy
import unicodedata

from werkzeug.datastructures import MultiDict

from hotline.cases.operations import check_registration
from hotline.cases.schemas import FieldErrors, parse_case

CHECKBOXES = {"consumer.anonymous", "consumer.representative", "business.address_unreachable", "also_report"}
COMPLAINANT_FIELDS = ("name", "phone", "id_number", "address", "representative")
TRUE = ("on", "1", "true", "y")


def _complainants(form: MultiDict) -> list[dict]:
    """共同投诉: rows `complainants.N.field` as a list in row order; rows left empty are dropped, so the
    error paths (`complainants.0.phone`) name the rows as the page shows them again."""
    rows: dict[int, dict] = {}
    for name, value in form.items():
        parts = name.split(".")
        # isascii: "²".isdigit() is true, but int("²") raises
        if len(parts) != 3 or parts[0] != "complainants" or not (parts[1].isascii() and parts[1].isdigit()) \
                or len(parts[1]) > 3 or parts[2] not in COMPLAINANT_FIELDS:
            continue
        row = rows.setdefault(int(parts[1]), {})
        if parts[2] == "representative":
            if value in TRUE:
                row["representative"] = True
        elif value.strip():
            row[parts[2]] = value
    return [rows[i] for i in sorted(rows) if rows[i]]


def form_to_payload(form: MultiDict) -> dict:
    """The form's own fields folded into the API's shape. Any other name is ignored, as a browser posts
    only the page's fields: a name such as `consumer` next to `consumer.phone` cannot be folded (a 500
    once, issue #12), and the API's own check names unknown fields for the clients that send JSON."""
    payload: dict = {}
    complainants = _complainants(form)
    if complainants:
        payload["complainants"] = complainants
    for name in FORM_FIELDS:
        if name in CHECKBOXES:
            value = form.get(name) in TRUE
        else:
            value = form.get(name, "")
            if name == "amount":  # typed with a CJK input method: full-width digits and point (１２．５)
                value = unicodedata.normalize("NFKC", value).strip()
            if value.strip() == "":
                continue
        target = payload
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = value
    return payload


# The form's fields in the order they appear: the first wrong one gets the focus.
FIELD_ORDER = ("kind", "channel", "consumer.phone", "consumer.name", "consumer.anonymous", "consumer.address",
               "consumer.id_number", "consumer.representative", "complainants", "business.name", "business.address",
               "business.uscc", "business.phone", "business.platform", "business.shop", "business.address_unreachable",
               "category.goods", "category.service", "category.issue",
               "subject", "description", "demand", "amount", "occurred_on", "received_at", "also_report",
               "answer", "answer_code", "station")
# The names the form posts (the joint complaint's rows apart), each folded into the API's shape.
FORM_FIELDS = tuple(name for name in FIELD_ORDER if name != "complainants")
# What a required field is given while the rest of the form is checked (it keeps its own error).
PLACEHOLDERS = {"subject": "-"}


def _drop(payload: dict, path: str) -> bool:
    """Remove a wrong field so the other rules can be checked; False when it was not there (missing)."""
    *parents, leaf = path.split(".")
    target = payload
    for parent in parents:
        if isinstance(target, list) and parent.isdigit() and int(parent) < len(target):
            target = target[int(parent)]
        elif isinstance(target, dict):
            target = target.get(parent)
        else:
            return False
        if not isinstance(target, dict | list):
            return False
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

    def key(item):
        name = item[0]
        if name.startswith("complainants."):  # a joint complaint's rows, in row and field order
            _, row, leaf = (name.split(".") + ["", ""])[:3]
            field = COMPLAINANT_FIELDS.index(leaf) if leaf in COMPLAINANT_FIELDS else len(COMPLAINANT_FIELDS)
            return (rank["complainants"], int(row) if row.isdigit() else 0, field)
        return (rank.get(name, -1 if name == "" else len(rank)), 0, 0)
    return dict(sorted(errors.items(), key=key))


def complainant_rows(payload: dict, add: bool = False) -> list[dict]:
    """The joint-complaint rows the form shows: those posted (not empty), one more when asked, at least one."""
    rows = [dict(row) for row in payload.get("complainants", []) if isinstance(row, dict)]
    if add or not rows:
        rows.append({})
    return rows
