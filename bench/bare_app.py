"""The bare endpoint bench/intake.py compares intake with (DESIGN.md §4: intake ≥ 50 % of it): Flask,
Flask-SQLAlchemy, psycopg and PostgreSQL like the app, under the same gunicorn settings; one request
reads a JSON body and INSERTs one row in one transaction, nothing else (no auth, no limits, no relay).

    HOTLINE_DATABASE_URL=postgresql://... gunicorn -c /dev/null --workers 4 --threads 4 bench.bare_app:app

(`-c` with an empty file: the project's gunicorn.conf.py would start the outbox relay). The table is
created by bench/intake.py (`create_table`), not on import, so workers start cleanly."""
import os

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import JSON, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

TABLE = "bench_bare"


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class BareRow(db.Model):
    __tablename__ = TABLE
    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(255))
    body: Mapped[dict] = mapped_column(JSON)


def database_url() -> str:
    url = os.environ["HOTLINE_DATABASE_URL"]
    return "postgresql+psycopg://" + url.split("://", 1)[1] if url.startswith("postgresql://") else url


def create_app() -> Flask:
    from config import Config
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url()
    # The app's own pool settings (config.py), so the comparison is of the request's work only.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(Config.DATABASE_ENGINE_OPTIONS)
    db.init_app(app)

    @app.post("/bare")
    def bare():
        data = request.get_json()
        row = BareRow(subject=str(data.get("subject", ""))[:255], body=data)
        db.session.add(row)
        db.session.flush()  # INSERT ... RETURNING id
        row_id = row.id  # read before the commit expires it (no second statement)
        db.session.commit()
        return jsonify(id=row_id), 201

    return app


def create_table(app: Flask) -> None:
    with app.app_context():
        db.drop_all()
        db.create_all()


app = create_app()
