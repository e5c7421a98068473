"""The `hotline` command (DESIGN.md §3): a Flask CLI group over the app factory."""
import getpass
import sys
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, routes_command, shell_command
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from hotline.auth.models import ROLES
from hotline.extensions import db


def main() -> None:
    from hotline import create_app
    cli = FlaskGroup(create_app=lambda: create_app(), add_default_commands=False,
                     help="hotline: the 12315 case-management system.")
    cli.add_command(shell_command)
    cli.add_command(routes_command)
    cli.main(prog_name="hotline")


def init_database() -> dict[str, int]:
    """Migrate to head and load the region pack; safe to run again."""
    from hotline.reference.operations import load_region_pack
    upgrade(directory=current_app.extensions["migrate"].directory)
    counts = load_region_pack(current_app.config["REGION"])
    db.session.commit()
    return counts


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat: "):
            raise click.ClickException("the passwords differ")
        return first
    lines = sys.stdin.read().splitlines()
    if not lines:
        raise click.ClickException("give the password on standard input")
    if len(lines) > 1 and lines[1] and lines[1] != lines[0]:
        raise click.ClickException("the passwords differ")
    return lines[0]


def _need_broker() -> None:
    if not current_app.config.get("BROKER_URL"):
        raise click.ClickException("no broker configured (HOTLINE_BROKER_URL); without one, `hotline run` "
                                   "runs the jobs in-process")


def register_commands(app: Flask) -> None:
    @app.cli.command("init")
    def init_command():
        """Migrate the database to head and load the region pack (idempotent)."""
        counts = init_database()
        click.echo(f"database at head; region {current_app.config['REGION']} loaded: "
                   + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))

    @app.cli.command("demo")
    @click.option("--cases", default=400, show_default=True, help="how many demo cases")
    def demo_command(cases: int):
        """`init`, plus demo users and a few hundred realistic cases; prints the demo log-ins."""
        from hotline.demo import load_demo
        init_database()
        logins, created = load_demo(cases)
        from hotline.deadlines.sweep import sweep
        sweep()  # reminders and escalations for the demo cases due by now
        click.echo(f"{created} demo cases loaded. Demo log-ins (user / password):")
        for username, password, role, where in logins:
            click.echo(f"  {username:<12} {password:<19} {role:<11} {where}")

    @app.cli.command("run")
    @click.option("--port", default=5000, show_default=True)
    @click.option("--host", default="127.0.0.1", show_default=True)
    def run_command(port: int, host: str):
        """The web app; with no broker configured, outbox jobs run in-process."""
        from hotline.outbox.relay import start_relay
        start_relay(current_app._get_current_object())  # runs jobs here, or publishes them to the broker
        click.echo(f"hotline on http://{host}:{port}/ (database: {db.engine.url.render_as_string()})")
        run_simple(host, port, current_app._get_current_object(), threaded=True)

    @app.cli.command("worker", context_settings={"ignore_unknown_options": True})
    @click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
    def worker_command(celery_args):
        """The Celery worker (threads pool; extra arguments go to `celery worker`)."""
        _need_broker()
        from workers import QUEUE_NAMES, celery_app
        celery_app.worker_main(["worker", "--pool", "threads", "--concurrency", "8", "--loglevel", "INFO",
                                "--queues", ",".join(QUEUE_NAMES), *celery_args])

    @app.cli.command("beat", context_settings={"ignore_unknown_options": True})
    @click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
    def beat_command(celery_args):
        """The Celery scheduler (outbox relay, deadline sweeps)."""
        _need_broker()
        from workers import celery_app
        celery_app.start(["beat", "--loglevel", "INFO", *celery_args])

    @app.cli.command("sweep")
    def sweep_command():
        """One deadline sweep now: reminders before due dates, escalations of overdue cases."""
        from hotline.deadlines.sweep import sweep
        click.echo(f"sweep: {sweep()}")

    stats = click.Group("stats", help="The statistics rollups.")
    app.cli.add_command(stats)

    @stats.command("rebuild")
    @click.option("--from", "start", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                  help="Only recount the cases received on or after this day (YYYY-MM-DD).")
    def stats_rebuild(start):
        """Count the cases into the rollups again: all of them, or those received since --from."""
        import time

        from hotline.stats.refresh import rebuild
        began = time.monotonic()
        counted = rebuild(start.date() if start else None,
                          progress=lambda n: click.echo(f"  {n:,} cases counted", err=True))
        what = "recounted (changed)" if start else "counted"
        click.echo(f"stats rebuild: {counted:,} cases {what} in {time.monotonic() - began:.1f} s")

    @stats.command("refresh")
    def stats_refresh():
        """Count the cases changed since the last pass now (the workers do this every few seconds)."""
        from hotline.stats.refresh import drain
        click.echo(f"stats refresh: {drain():,} cases recounted")

    users = click.Group("users", help="Staff accounts.")
    app.cli.add_command(users)

    @users.command("create")
    @click.argument("name")
    @click.option("--role", type=click.Choice(ROLES), required=True)
    @click.option("--bureau", "bureau_code", help="bureau code, for role bureau")
    @click.option("--station", "station_code", help="station code, for role station")
    @click.option("--display-name", help="the name shown in timelines")
    def users_create(name, role, bureau_code, station_code, display_name):
        """Create a user; the password is read from standard input."""
        from hotline.auth.operations import AccountError, create_user
        try:
            create_user(name, _read_password(), role, display_name=display_name, bureau_code=bureau_code,
                        station_code=station_code)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"user {name} created ({role})")

    @users.command("sms")
    @click.argument("name")
    @click.option("--mobile", help="the handler's mobile number (deadline reminders by SMS)")
    @click.option("--reminders/--no-reminders", default=True, show_default=True,
                  help="send deadline reminders by SMS (the handler's consent)")
    def users_sms(name, mobile, reminders):
        """Set a user's mobile number and whether deadline reminders also go by SMS."""
        from hotline.auth.operations import AccountError, set_sms_reminders
        try:
            user = set_sms_reminders(name, mobile, reminders)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"user {name}: SMS reminders {'on' if user.sms_reminders else 'off'}")

    tokens = click.Group("tokens", help="API tokens.")
    app.cli.add_command(tokens)

    @tokens.command("create")
    @click.argument("name")
    def tokens_create(name):
        """Print a new API token for that user (shown once; only its hash is stored)."""
        from hotline.auth.operations import AccountError, create_token
        try:
            token = create_token(name)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(token)

    @tokens.command("list")
    @click.option("--user", "username", help="only this user's tokens")
    def tokens_list(username):
        """Every API token: prefix, user, created, last used, revoked (never the token itself)."""
        from hotline.auth.operations import AccountError
        from hotline.auth.operations import tokens as all_tokens
        try:
            rows = all_tokens(username)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None

        from zoneinfo import ZoneInfo
        tz = ZoneInfo(current_app.config["TIMEZONE"])

        def when(value):
            return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "-"
        click.echo(f"{'prefix':<12} {'user':<16} {'created':<16}  {'last used':<16}  revoked ({tz.key})")
        for row in rows:
            click.echo(f"{row.prefix:<12} {row.user.username:<16} {when(row.created_at):<16}  "
                       f"{when(row.last_used_at):<16}  {when(row.revoked_at)}")
        click.echo(f"{len(rows)} tokens, {sum(1 for r in rows if r.revoked_at is None)} live")

    @tokens.command("revoke")
    @click.argument("prefix", required=False)
    @click.option("--user", "username", help="revoke every live token of this user")
    def tokens_revoke(prefix, username):
        """Revoke the token that starts with PREFIX, or every live token of --user."""
        from hotline.auth.operations import AccountError, revoke_tokens
        try:
            rows = revoke_tokens(prefix=prefix, username=username, by="the command line")
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"{len(rows)} tokens revoked" + "".join(f"\n  {r.prefix} ({r.user.username})" for r in rows))

    @users.command("password")
    @click.argument("name")
    def users_password(name):
        """Set a new password (from standard input); every session of the user ends."""
        from hotline.auth.operations import AccountError, set_password
        try:
            set_password(name, _read_password())
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"user {name}: password changed; earlier sessions ended")

    @users.command("deactivate")
    @click.argument("name")
    def users_deactivate(name):
        """Deactivate an account: no log-in, no API tokens, and its sessions end now."""
        from hotline.auth.operations import AccountError, deactivate_user
        try:
            deactivate_user(name)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"user {name} deactivated; its sessions ended")

    keys_group = click.Group("keys", help="Personal-data keys (HOTLINE_DATA_KEYS, HOTLINE_QUERY_CODE_KEY).")
    app.cli.add_command(keys_group)

    @keys_group.command("generate")
    def keys_generate():
        """Print a new data key, to put first in HOTLINE_DATA_KEYS."""
        from cryptography.fernet import Fernet
        click.echo(Fernet.generate_key().decode())

    @keys_group.command("rotate")
    @click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000),
                  help="rows re-encrypted per transaction")
    def keys_rotate(batch: int):
        """Re-encrypt every stored ID number under the newest data key. Safe to stop and run again."""
        from hotline.cases.personal_data import rotate_data_keys

        def report(p):
            click.echo(f"{p.column}: {p.checked} checked, {p.rotated} re-encrypted, {p.unreadable} unreadable")
        results = rotate_data_keys(batch, report)
        checked, rotated, unreadable = (sum(getattr(r, f) for r in results)
                                        for f in ("checked", "rotated", "unreadable"))
        click.echo(f"done: {checked} ID numbers checked, {rotated} re-encrypted, {unreadable} unreadable")
        if unreadable:
            raise click.ClickException(f"{unreadable} ID numbers open with none of the configured keys "
                                       "(see the log for their rows); they were left as they are")

    from hotline.sms.cli import sms_group
    app.cli.add_command(sms_group)

    @app.cli.command("report")
    @click.option("--year", type=click.IntRange(2000, 9998), required=True, help="the calendar year")
    @click.option("--format", "formats", default="md", show_default=True,
                  help="md, html or csv, or several as a comma list (md,html,csv)")
    @click.option("--output", type=click.Path(file_okay=False), help="folder for hotline-report-YEAR.<ext> files")
    def report_command(year: int, formats: str, output: str | None):
        """The yearly report, shaped as a government-information annual report: intake by kind and channel,
        outcomes, money recovered, on-time rates, satisfaction, alerts and SMS sent. One format and no
        --output: printed; otherwise written as files (into the current folder by default)."""
        import os

        from flask_babel import force_locale

        from hotline.stats.refresh import drain
        from hotline.stats.report_render import FORMATS, render_year
        from hotline.stats.reports import yearly
        wanted = list(dict.fromkeys(f.strip().lower() for f in formats.split(",") if f.strip()))
        if not wanted or set(wanted) - set(FORMATS):
            raise click.BadParameter(f"one or more of {', '.join(FORMATS)}, comma separated", param_hint="--format")
        drain()  # count the cases changed since the workers last did, so the report is current
        with force_locale("zh_Hans_CN"):  # the report speaks the app's default language
            report = yearly(year)
            texts = {fmt: render_year(report, fmt) for fmt in wanted}
        if len(wanted) == 1 and output is None:
            click.echo(texts[wanted[0]].encode("utf-8"), nl=False)  # bytes: UTF-8 whatever the locale says
            return
        folder = output or "."
        os.makedirs(folder, exist_ok=True)
        for fmt, text in texts.items():
            path = os.path.join(folder, f"hotline-report-{year}.{fmt}")
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            click.echo(path)

    calendar_group = click.Group("calendar", help="The working-day calendar.")
    app.cli.add_command(calendar_group)

    @calendar_group.command("import")
    @click.argument("file", type=click.File("rb"))
    def calendar_import(file):
        """Import holidays and make-up working days (CSV date,kind,name) and recompute open deadlines."""
        from flask_babel import force_locale

        from hotline.deadlines.operations import CalendarImportError, import_calendar_days, read_calendar_file
        try:  # every bad line is a message and exit status 1, never a traceback (issue #12)
            days, clocks = import_calendar_days(read_calendar_file(file.read()))
        except CalendarImportError as exc:
            with force_locale("en"):  # the command line speaks English, as its other messages do
                errors = [str(e) for e in exc.errors]
            raise click.ClickException("nothing imported:\n  " + "\n  ".join(errors)) from None
        db.session.commit()
        click.echo(f"{days} days imported; {clocks} open deadlines recomputed")
        click.echo("when the year's whole schedule is in, mark it: hotline calendar complete YEAR")

    @calendar_group.command("complete")
    @click.argument("year", type=int)
    @click.option("--undo", is_flag=True, help="Take the mark back: the year warns again.")
    def calendar_complete(year: int, undo: bool):
        """Mark a year's imported schedule complete: its deadlines stop warning about a missing calendar."""
        from flask_babel import force_locale

        from hotline.deadlines.operations import CalendarYearError, mark_year_complete, unmark_year_complete
        try:
            clocks = unmark_year_complete(year, None) if undo else mark_year_complete(year, None)
        except CalendarYearError as exc:
            with force_locale("en"):
                message = str(exc)
            raise click.ClickException(message) from None
        db.session.commit()
        state = "no longer marked complete" if undo else "marked complete"
        click.echo(f"{year} {state}; {clocks} open deadlines recomputed")

    @calendar_group.command("due")
    @click.option("--from", "start", required=True, help="ISO date-time of receipt, e.g. 2026-09-29T10:00:00+08:00")
    @click.option("--days", type=int, required=True)
    @click.option("--natural", is_flag=True, help="Natural days (日) under Order 121 art. 45, not working days.")
    def calendar_due(start: str, days: int, natural: bool):
        """Print the last day of a period of N working days (or, with --natural, N natural days whose last
        day moves to the next working day when it is not one, art. 45)."""
        from zoneinfo import ZoneInfo

        from hotline.deadlines.calendar import due_at
        from hotline.deadlines.operations import calendar_overrides
        tz = current_app.config["TIMEZONE"]
        try:
            received = datetime.fromisoformat(start)
        except ValueError:
            raise click.BadParameter("not an ISO date-time", param_hint="--from") from None
        if received.tzinfo is None:
            received = received.replace(tzinfo=ZoneInfo(tz))
        if not 0 <= days <= 3660:
            raise click.BadParameter("must be a whole number from 0 to 3660", param_hint="--days")
        unit = "natural" if natural else "working"
        try:
            last, end, fallback = due_at(received, days, tz, calendar_overrides(), unit)
        except OverflowError:
            raise click.BadParameter("the period runs past the calendar", param_hint="--days") from None
        click.echo(f"{last.isoformat()} ({days} {unit} days; period ends {end.astimezone(ZoneInfo(tz)).isoformat()})")
        if fallback:
            click.echo("warning: a year without an official calendar; weekends only were counted", err=True)
