"""Staff sessions that end (issue #12): the session cookie is signed, not stored, so a copied cookie
would work until it expires. Each session carries the user's `session_generation` from log-in, and a
session whose generation is not the user's current one is refused; log-out, a password change and
deactivation bump the generation, ending every earlier session of that user. A session unused longer
than HOTLINE_SESSION_IDLE_MINUTES ends too: the last request's time is kept in the session, rewritten
at most once a minute so the cookie does not change on every request."""
import time

from flask import current_app, session

from hotline.auth.models import User
from hotline.extensions import db

GENERATION = "_generation"
LAST_SEEN = "_seen"
REFRESH_SECONDS = 60
# Flask-Login's own keys: dropped with ours when a session is refused, so the cookie is clean again.
_LOGIN_KEYS = ("_user_id", "_fresh", "_id", GENERATION, LAST_SEEN)


def now() -> float:
    """The clock (tests fake it)."""
    return time.time()


def start(user: User) -> None:
    """Called right after `login_user`."""
    session[GENERATION] = user.session_generation
    session[LAST_SEEN] = int(now())


def end() -> None:
    for key in _LOGIN_KEYS:
        session.pop(key, None)


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the user of a session that is still theirs and still in use."""
    if not (isinstance(user_id, str) and user_id.isascii() and user_id.isdigit() and len(user_id) < 10):
        end()
        return None
    user = db.session.get(User, int(user_id))
    seen, moment = session.get(LAST_SEEN), now()
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    if (user is None or session.get(GENERATION) != user.session_generation
            or not isinstance(seen, int) or moment - seen > idle):
        end()
        return None
    if moment - seen >= REFRESH_SECONDS:
        session[LAST_SEEN] = int(moment)
    return user


def end_every_session(user: User) -> None:
    """Bump the user's generation in the database (an increment, so two at once both count)."""
    user.session_generation = User.session_generation + 1
    db.session.flush()
