"""Configuration from environment variables (DESIGN.md §3). Every setting has an embedded default,
so the app runs with no configuration at all: SQLite in the instance folder, tasks in-process."""
import os


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


class Config:
    DATABASE_URL = _env("HOTLINE_DATABASE_URL")  # None: SQLite in the instance folder
    # PostgreSQL's pool. No pool_pre_ping (a round trip on every checkout): a dead connection fails its
    # request with a 503 and the pool is recycled (optimistic disconnect handling), and a connection idle
    # for a while is pinged first (hotline/database.py).
    DATABASE_ENGINE_OPTIONS = {"pool_size": 10, "max_overflow": 20}
    BROKER_URL = _env("HOTLINE_BROKER_URL")  # None: tasks run in-process after commit
    REDIS_URL = _env("HOTLINE_REDIS_URL")  # None: in-memory rate limits and cache
    SECRET_KEY = _env("HOTLINE_SECRET_KEY")  # None: generated into the instance folder
    SMS_BACKEND = _env("HOTLINE_SMS_BACKEND", "log")
    REGION = _env("HOTLINE_REGION", "anshan")
    TIMEZONE = _env("HOTLINE_TIMEZONE", "Asia/Shanghai")
    ENV = _env("HOTLINE_ENV", "development")  # "production" turns on Secure cookies and demands a key

    # 1 MiB for every request; the portal's submit and evidence routes alone allow EVIDENCE_MAX_FILES ×
    # EVIDENCE_MAX_BYTES more (hotline/portal/submit_views.py), so a large body elsewhere is still refused early.
    MAX_CONTENT_LENGTH = int(_env("HOTLINE_MAX_CONTENT_LENGTH", str(1024 * 1024)))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # an operator's console stays open all shift
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_Hans_CN": "简体中文", "en": "English"}
    # Log-in failures (hotline/auth/limits.py; successes never count): per account from one client, per client
    # over all accounts, per account from every client. A browser the account logged in from before has its
    # own allowance instead (a device cookie), so nobody can lock a user out by flooding failures.
    LOGIN_RATE_LIMIT = _env("HOTLINE_LOGIN_RATE_LIMIT", "10 per minute")
    LOGIN_CLIENT_RATE_LIMIT = _env("HOTLINE_LOGIN_CLIENT_RATE_LIMIT", "30 per minute;300 per day")
    LOGIN_ACCOUNT_RATE_LIMIT = _env("HOTLINE_LOGIN_ACCOUNT_RATE_LIMIT", "50 per hour")
    # A staff session unused this long ends (hotline/auth/sessions.py).
    SESSION_IDLE_MINUTES = int(_env("HOTLINE_SESSION_IDLE_MINUTES", "480"))
    # The limiter's Redis down: count in memory (per process) with a logged warning, never answer 500; and
    # give up on a hung Redis quickly rather than hold the log-in page.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}
    # Personal data at rest (hotline/cases/personal_data.py): ID numbers under the data keys (comma-separated
    # Fernet keys, newest first), query codes under their own HMAC key; both generated into the instance
    # folder when absent (never in production). Neither depends on the secret key; the secret key ID numbers
    # and query codes were made with before (the old derivation) is LEGACY_SECRET_KEY, else SECRET_KEY.
    DATA_KEYS = _env("HOTLINE_DATA_KEYS")
    QUERY_CODE_KEY = _env("HOTLINE_QUERY_CODE_KEY")
    LEGACY_SECRET_KEY = _env("HOTLINE_LEGACY_SECRET_KEY")
    PUBLIC_LOOKUP_RATE_LIMIT = _env("HOTLINE_LOOKUP_RATE_LIMIT", "20 per minute")
    # POST /api/v1/cases per API token (or staff session): a runaway integration cannot flood intake. A feed
    # that really sends more (the national platform's push after a scandal) gets a higher figure here.
    API_CREATE_RATE_LIMIT = _env("HOTLINE_API_CREATE_RATE_LIMIT", "600 per minute")
    OPEN311_RATE_LIMIT = _env("HOTLINE_OPEN311_RATE_LIMIT", "120 per minute")  # Open311 reads, per client
    # The consumer portal's online submission (hotline/portal/): the phone is confirmed by an SMS code first
    # (off only for tests or a site that confirms otherwise); evidence files are stored by the storage
    # interface (hotline/storage.py: `local` in STORAGE_DIR, outside the web root, or `s3`).
    PORTAL_CONFIRM_PHONE = _env("HOTLINE_PORTAL_CONFIRM_PHONE", "1").lower() not in ("0", "false", "no", "off")
    PORTAL_CODE_RATE_LIMIT_PHONE = _env("HOTLINE_PORTAL_CODE_RATE_LIMIT_PHONE", "5 per hour")
    PORTAL_CODE_RATE_LIMIT_CLIENT = _env("HOTLINE_PORTAL_CODE_RATE_LIMIT_CLIENT", "20 per hour")
    PORTAL_SUBMIT_RATE_LIMIT_PHONE = _env("HOTLINE_PORTAL_SUBMIT_RATE_LIMIT_PHONE", "10 per day")
    PORTAL_SUBMIT_RATE_LIMIT_CLIENT = _env("HOTLINE_PORTAL_SUBMIT_RATE_LIMIT_CLIENT", "30 per hour")
    EVIDENCE_MAX_FILES = int(_env("HOTLINE_EVIDENCE_MAX_FILES", "6"))
    EVIDENCE_MAX_BYTES = int(_env("HOTLINE_EVIDENCE_MAX_BYTES", str(10 * 1024 * 1024)))  # per file
    STORAGE_BACKEND = _env("HOTLINE_STORAGE_BACKEND", "local")  # local | s3
    STORAGE_DIR = _env("HOTLINE_STORAGE_DIR")  # None: instance/evidence
    STORAGE_S3_BUCKET = _env("HOTLINE_STORAGE_S3_BUCKET")
    STORAGE_S3_ENDPOINT = _env("HOTLINE_STORAGE_S3_ENDPOINT")  # any S3-compatible store (MinIO, OSS, COS)
    STORAGE_S3_ACCESS_KEY = _env("HOTLINE_STORAGE_S3_ACCESS_KEY")
    STORAGE_S3_SECRET_KEY = _env("HOTLINE_STORAGE_S3_SECRET_KEY")
    PER_PAGE = 50
    # The portal's public address (https://...), for links in SMS (the rating invitation); unset: no link is sent.
    PUBLIC_URL = _env("HOTLINE_PUBLIC_URL")
    # Proxies in front of the app whose X-Forwarded-For/-Proto are believed (Werkzeug's ProxyFix): 0 trusts
    # none, so a client cannot forge its address; 1 behind the documented HTTPS proxy, so each client
    # gets its own rate limits instead of all sharing the proxy's address.
    TRUSTED_PROXIES = int(_env("HOTLINE_TRUSTED_PROXIES", "0"))
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

