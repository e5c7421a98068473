"""`hotline sms …`: SMS commands for operations staff (English, like the rest of the command line)."""
import click

sms_group = click.Group("sms", help="SMS messages.")


@sms_group.command("reconcile")
def reconcile_command():
    """Settle messages left in `sending` (a crashed worker) by asking the gateway; never resends blindly."""
    from hotline.sms.sending import reconcile
    click.echo(str(reconcile()))
