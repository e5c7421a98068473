"""Configuration from environment variables (DESIGN.md §3). Every setting has an embedded default,
so the app runs with no configuration at all: SQLite in the instance folder, tasks in-process."""
import os


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


class Config:
    DATABASE_URL = _env("HOTLINE_DATABASE_URL")  # None: SQLite in the instance folder
    BROKER_URL = _env("HOTLINE_BROKER_URL")  # None: tasks run in-process after commit
    REDIS_URL = _env("HOTLINE_REDIS_URL")  # None: in-memory rate limits and cache
    SECRET_KEY = _env("HOTLINE_SECRET_KEY")  # None: generated into the instance folder
    SMS_BACKEND = _env("HOTLINE_SMS_BACKEND", "log")
    REGION = _env("HOTLINE_REGION", "anshan")
    TIMEZONE = _env("HOTLINE_TIMEZONE", "Asia/Shanghai")
    ENV = _env("HOTLINE_ENV", "development")  # "production" turns on Secure cookies and demands a key

    MAX_CONTENT_LENGTH = int(_env("HOTLINE_MAX_CONTENT_LENGTH", str(1024 * 1024)))  # 1 MiB; evidence uploads come later
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # an operator's console stays open all shift
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_Hans_CN": "简体中文", "en": "English"}
    LOGIN_RATE_LIMIT = _env("HOTLINE_LOGIN_RATE_LIMIT", "10 per minute")
    PUBLIC_LOOKUP_RATE_LIMIT = _env("HOTLINE_LOOKUP_RATE_LIMIT", "20 per minute")
    PER_PAGE = 50
    REMINDER_WORKING_DAYS = int(_env("HOTLINE_REMINDER_DAYS", "2"))  # remind the handler this long before
    SWEEP_INTERVAL_SECONDS = int(_env("HOTLINE_SWEEP_INTERVAL", "300"))

