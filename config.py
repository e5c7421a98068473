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
    # SMS (hotline/sms/policy.py, sending.py): alerts and surveys only between QUIET_END and QUIET_START local
    # time, at most SMS_DAILY_CAP a day to one number; a message left in `sending` this long is settled by
    # asking the gateway (must exceed the gateway's request timeout); temporary errors retried this often.
    SMS_QUIET_START = _env("HOTLINE_SMS_QUIET_START", "21:00")
    SMS_QUIET_END = _env("HOTLINE_SMS_QUIET_END", "08:00")
    SMS_DAILY_CAP = int(_env("HOTLINE_SMS_DAILY_CAP", "3"))
    SMS_RECONCILE_AFTER = int(_env("HOTLINE_SMS_RECONCILE_AFTER", "60"))
    SMS_MAX_ATTEMPTS = int(_env("HOTLINE_SMS_MAX_ATTEMPTS", "10"))
    # The real gateways (hotline/sms/gateways/settings.py): Aliyun AccessKey or Tencent SecretId/SecretKey, the
    # approved signature, our template codes → the gateway's template ids (JSON), Tencent's SmsSdkAppId, and the
    # endpoint (host or http(s)://host:port; unset: the SDK's own), so tests can point the SDK at a local fake.
    SMS_ACCESS_KEY_ID = _env("HOTLINE_SMS_ACCESS_KEY_ID")
    SMS_ACCESS_KEY_SECRET = _env("HOTLINE_SMS_ACCESS_KEY_SECRET")
    SMS_SIGN_NAME = _env("HOTLINE_SMS_SIGN_NAME")
    SMS_TEMPLATES = _env("HOTLINE_SMS_TEMPLATES", "{}")
    SMS_APP_ID = _env("HOTLINE_SMS_APP_ID")
    SMS_REGION = _env("HOTLINE_SMS_REGION")
    SMS_ENDPOINT = _env("HOTLINE_SMS_ENDPOINT")
    SMS_EXTEND_CODE = _env("HOTLINE_SMS_EXTEND_CODE")
    SMS_TIMEOUT = float(_env("HOTLINE_SMS_TIMEOUT", "10"))
    # Receipts and replies the gateway pushes to /sms/receipts/<backend>?token=... and /sms/inbound/<backend>?token=...
    # (a gateway pushes to a fixed URL, so the token travels in it); unset: those endpoints refuse everything.
    SMS_RECEIPT_TOKEN = _env("HOTLINE_SMS_RECEIPT_TOKEN")

