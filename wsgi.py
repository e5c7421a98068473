"""WSGI entry point: `gunicorn wsgi:app` in production, `flask --app wsgi` for the Flask CLI."""
from hotline import create_app

app = create_app()
