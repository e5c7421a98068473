"""Log-in throttling with the limiter's counters in Redis, shared by every web worker."""
from hotline import create_app
from hotline.auth.operations import create_user
from hotline.extensions import db, limiter
from tests.conftest import PASSWORD


def test_login_throttle_is_shared_through_redis(app, redis_url):
    import redis
    redis.Redis.from_url(redis_url).flushdb()
    config = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "test-secret",
              "REDIS_URL": redis_url, "LOGIN_RATE_LIMIT": "3 per minute", "WTF_CSRF_ENABLED": False}
    first, second = create_app(config), create_app(config)  # two web workers
    assert first.config["RATELIMIT_STORAGE_URI"] == redis_url
    with first.app_context():
        create_user("throttled", PASSWORD, "operator")
        db.session.commit()
    codes = []
    for worker in (first, second, first, second):
        with worker.app_context():
            codes.append(worker.test_client().post("/login", data={"username": "throttled", "password": "x"})
                         .status_code)
    assert codes == [200, 200, 200, 429]
    redis.Redis.from_url(redis_url).flushdb()
    limiter.init_app(app)  # the limiter is one object for every app: back to the session app's memory store
