"""The answer bank for the console: `GET /answers?q=` searches standard answers."""
from flask import jsonify, request
from flask_babel import gettext as _

from hotline.api import bp
from hotline.api.auth import require_role
from hotline.api.schemas import AnswerList, AnswerOut
from hotline.auth.models import ROLES
from hotline.reference.queries import search_answers


@bp.get("/answers")
@require_role(*ROLES)
def answers():
    items = search_answers(request.args.get("q", ""))
    # basis_verified false: the operator is warned (法律依据待核实) before reading the answer out
    return jsonify(AnswerList(items=[
        AnswerOut(code=a.code, title=a.title, body=a.body, legal_basis=a.legal_basis, basis_verified=a.basis_verified,
                  basis_warning=None if a.basis_verified else _("Legal basis to be verified"))
        for a in items]).model_dump(mode="json"))
