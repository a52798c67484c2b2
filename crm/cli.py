"""`flask --app wsgi crm …`: commands for HQ staff and scripts."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from crm.core.roles import Role
from crm.core.scoping import unscoped
from crm.core.validation import FieldError
from crm.extensions import db

crm_cli = AppGroup("crm", help="盘图 administration commands.")


@crm_cli.command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--dealer", "dealer_code", default=None, help="Dealer code (required for dealer roles).")
@click.option("--name", "display_name", default="", help="Display name.")
def create_user_command(username, password, role, dealer_code, display_name):
    """Create a login (HQ roles take no --dealer; dealer roles need one)."""
    from crm.org.models import Dealer
    from crm.org.service import create_user_unchecked

    with unscoped():
        dealer = None
        if dealer_code:
            dealer = db.session.scalars(
                sa.select(Dealer).where(sa.func.upper(Dealer.code) == dealer_code.strip().upper())
            ).first()
            if dealer is None:
                raise click.ClickException(f"经销商编码不存在 / no dealer with code {dealer_code}")
        elif not Role(role).is_hq:
            raise click.ClickException("经销商角色需要 --dealer / dealer roles need --dealer CODE")
        try:
            user = create_user_unchecked(db.session, username, password, Role(role), dealer, display_name)
        except FieldError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        db.session.commit()
    click.echo(f"created user {user.username} ({user.role.value}{', ' + dealer.code if dealer else ''})")


@crm_cli.command("seed-demo")
def seed_demo_command():
    """Load the demo network (safe to run again: nothing is duplicated)."""
    from crm.demo import DEMO_PASSWORD, DEMO_USERS, seed_demo

    added = seed_demo(db.session)
    db.session.commit()
    click.echo("added: " + ", ".join(f"{k} {v}" for k, v in added.items()))
    click.echo(f"demo accounts (password {DEMO_PASSWORD}): " + ", ".join(u[0] for u in DEMO_USERS))
