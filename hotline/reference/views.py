"""The answer bank (知识库): everyone searches it; supervisors and administrators keep it."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hotline.auth.models import ROLES
from hotline.auth.views import roles_required
from hotline.extensions import db
from hotline.reference import pack
from hotline.reference.models import Answer, StatutoryGround
from hotline.reference.queries import search_answers

bp = Blueprint("reference", __name__)
EDITORS = ("supervisor", "admin")


@bp.get("/answers")
@roles_required(*ROLES)
def answers():
    q = request.args.get("q", "")
    can_edit = current_user.role in EDITORS
    return render_template("reference/answers.html", answers=search_answers(q, limit=200), q=q, can_edit=can_edit,
                           answer_conflicts=pack.conflicts(Answer) if can_edit else [],
                           ground_conflicts=pack.conflicts(StatutoryGround) if can_edit else [])


@bp.route("/answers/new", methods=["GET", "POST"], defaults={"code": None})
@bp.route("/answers/<code>/edit", methods=["GET", "POST"])
@roles_required(*EDITORS)
def edit_answer(code: str | None):
    answer = db.session.scalar(select(Answer).where(Answer.code == code)) if code else None
    if code and answer is None:
        abort(404)
    errors: dict[str, str] = {}
    if request.method == "POST":
        title = request.form.get("title", "").strip()
        body = request.form.get("body", "").strip()
        if not title:
            errors["title"] = _("required")
        if not body:
            errors["body"] = _("required")
        if len(title) > 128:
            errors["title"] = _("too long")
        if not errors:
            if answer is None:
                answer = _new_answer()
            before = (answer.title, answer.body, answer.legal_basis, answer.keywords, answer.active,
                      answer.basis_verified)
            answer.title, answer.body = title, body
            answer.legal_basis = request.form.get("legal_basis", "").strip()[:255] or None
            answer.keywords = [w for w in request.form.get("keywords", "").replace("，", " ").split() if w][:20]
            answer.active = request.form.get("active") == "on"
            answer.basis_verified = request.form.get("basis_verified") == "on"  # else 法律依据待核实 is shown
            if (answer.title, answer.body, answer.legal_basis, answer.keywords, answer.active,
                    answer.basis_verified) != before:
                answer.edited_locally = True  # the region pack no longer overwrites it (reference/pack.py)
            answer.updated_by_id = current_user.id
            db.session.commit()
            return redirect(url_for("reference.answers"))
    return render_template("reference/answer_form.html", answer=answer, errors=errors,
                           values=request.form if request.method == "POST" else None), (422 if errors else 200)


def next_answer_code() -> str:
    """The next free code A001, A002, …: one past the count of answers, moved on past codes taken."""
    count = db.session.scalar(select(func.count(Answer.id))) or 0
    while db.session.scalar(select(Answer.id).where(Answer.code == f"A{count + 1:03d}")):
        count += 1
    return f"A{count + 1:03d}"


def _new_answer(attempts: int = 5) -> Answer:
    """A new answer with a fresh code, written at once in a savepoint: two editors adding answers at the
    same moment pick the same next code, and the second then takes the one after (a 500 once, issue #12)."""
    for _attempt in range(attempts):
        answer = Answer(code=next_answer_code(), title="", body="")
        try:
            with db.session.begin_nested():
                db.session.add(answer)
        except IntegrityError:
            continue
        return answer
    abort(409, description=_("Other answers were being added at the same moment; try again."))


# Resolving a pack conflict: the pack changed an entry that was edited here (reference/pack.py).
_RESOLUTIONS = {"pack": pack.take_pack_version, "keep": pack.keep_local_version}


def _resolve(row, anchor: str):
    choice = _RESOLUTIONS.get(request.form.get("use", ""))
    if row is None or not row.pack_pending:
        abort(404)
    if choice is None:
        abort(400)
    choice(row, current_user)
    db.session.commit()
    flash(_("%(code)s: the region pack's version is in use.", code=row.code) if choice is pack.take_pack_version
          else _("%(code)s: your version is kept.", code=row.code), "ok")
    return redirect(url_for("reference.answers") + anchor)


@bp.post("/answers/<code>/pack")
@roles_required(*EDITORS)
def resolve_answer(code: str):
    return _resolve(db.session.scalar(select(Answer).where(Answer.code == code)), f"#answer-{code}")


@bp.post("/grounds/<version>/<code>/pack")
@roles_required(*EDITORS)
def resolve_ground(version: str, code: str):
    return _resolve(db.session.scalar(select(StatutoryGround).where(StatutoryGround.version == version,
                                                                   StatutoryGround.code == code)), "")
