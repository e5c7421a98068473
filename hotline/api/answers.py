"""The answer bank for the console: `GET /answers?q=` searches standard answers."""
from flask import jsonify, request

from hotline.api import bp
from hotline.api.auth import require_role
from hotline.auth.models import ROLES
from hotline.reference.queries import search_answers


@bp.get("/answers")
@require_role(*ROLES)
def answers():
    items = search_answers(request.args.get("q", ""))
    return jsonify(items=[{"code": a.code, "title": a.title, "body": a.body, "legal_basis": a.legal_basis}
                          for a in items])
