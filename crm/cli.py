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


@crm_cli.command("import-estates")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dealer", "dealer_code", required=True, help="Dealer code.")
@click.option("--city", "city_name", required=True, help="City name (or PROVINCE/CITY when the name is ambiguous).")
@click.option("--coords", "coord_system", required=True, type=click.Choice(["wgs84", "gcj02", "bd09"]))
@click.option("--dry-run", is_flag=True, help="Only print what would change; write nothing.")
def import_estates_command(file, dealer_code, city_name, coord_system, dry_run):
    """Import an estate list (.xlsx/.csv) for a dealer: print the preview, then apply it unless --dry-run."""
    from pathlib import Path

    from crm.core.scoping import scoped_to
    from crm.core.uploads import delete_upload
    from crm.estates.models import City
    from crm.imports import service
    from crm.imports.parsing import ImportFileError
    from crm.org.models import Dealer

    with unscoped():
        dealer = db.session.scalars(
            sa.select(Dealer).where(sa.func.upper(Dealer.code) == dealer_code.strip().upper())
        ).first()
    if dealer is None:
        raise click.ClickException(f"经销商编码不存在 / no dealer with code {dealer_code}")
    province, _slash, name = city_name.strip().rpartition("/")
    query = sa.select(City).where(City.name == name.strip())
    if province:
        query = query.where(City.province == province.strip())
    cities = db.session.scalars(query).all()
    if len(cities) != 1:
        known = "、".join(f"{c.province}/{c.name}" for c in cities)
        raise click.ClickException(
            f"城市不存在 / no city named {city_name}"
            if not cities
            else f"有多个同名城市，请写成 省份/城市：{known} / ambiguous city, use PROVINCE/CITY"
        )
    city = cities[0]
    path = Path(file)
    data = path.read_bytes()

    with scoped_to(dealer.id):
        if dry_run:
            try:
                preview = service.preview_file(
                    db.session, dealer_id=dealer.id, city=city, coord_system=coord_system, filename=path.name, data=data
                )
            except ImportFileError as error:
                raise click.ClickException(str(error)) from None
        else:
            estate_import = None
            try:
                estate_import = service.create_import(
                    db.session,
                    dealer_id=dealer.id,
                    city_id=city.id,
                    coord_system=coord_system,
                    filename=path.name,
                    data=data,
                )
                preview = service.apply_import(db.session, estate_import)
            except (FieldError, service.ImportApplyError) as error:
                stored_path = estate_import.stored_path if estate_import is not None else None
                db.session.rollback()
                delete_upload(stored_path)
                raise click.ClickException(str(error)) from None
            db.session.commit()

    click.echo(f"{dealer.code} {dealer.name} · {city.name} · {coord_system}")
    columns = "，".join(f"{column.header} → {column.field or '忽略'}" for column in preview.columns)
    click.echo(f"列对应 / columns: {columns}")
    for line in service.report_lines(preview):
        click.echo(line)
    if preview.problems:
        raise click.ClickException("；".join(preview.problems))
    click.echo("预演，未写入任何数据 / dry run, nothing written" if dry_run else "已导入 / applied")


@crm_cli.command("backup")
@click.argument("directory", type=click.Path(file_okay=False))
def backup_command(directory):
    """Back up the database and the uploads together into a new folder under DIRECTORY."""
    from crm.core.backup import BackupError, create_backup

    try:
        result = create_backup(directory)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    rows = sum(result.manifest["row_counts"].values())
    click.echo(f"备份完成 / backup written: {result.path} ({result.manifest['database']}, {rows} rows)")


@crm_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore_command(directory, yes):
    """Replace the database and the uploads with a backup made by `crm backup` (stop the app first)."""
    from crm.core.backup import BackupError, read_manifest, restore_backup

    try:
        manifest = read_manifest(directory)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    if not yes:
        click.confirm(
            f"用 {manifest['created_at']} 的备份覆盖当前数据库和上传文件？/ Replace everything with this backup?",
            abort=True,
        )
    try:
        restore_backup(directory)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"已恢复 / restored: {directory} (schema {manifest['schema_revision']}); "
        "如备份较旧请运行 / if the backup is older run: flask --app wsgi db upgrade"
    )


@crm_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the queued jobs, then stop.")
def worker_command(burst):
    """Run background jobs from Redis (REDIS_URL) until stopped; start one or more per machine."""
    from crm.jobs.service import redis_connection
    from crm.jobs.worker import work

    connection = redis_connection()
    if connection is None:
        raise click.ClickException("REDIS_URL 未设置：没有 Redis 时任务在请求中直接运行 / REDIS_URL is not set")
    work(connection, burst=burst)


@crm_cli.command("housekeeping")
@click.option("--days", default=30, show_default=True, help="Keep this many days.")
def housekeeping_command(days):
    """Forget old one-time form tokens and delete old background-job results (run daily, e.g. from cron)."""
    from datetime import timedelta

    from crm.core.models import utcnow
    from crm.core.submissions import FormSubmission
    from crm.jobs.models import BackgroundJob, JobStatus
    from crm.jobs.service import results_root

    cutoff = utcnow() - timedelta(days=days)
    with unscoped():
        tokens = db.session.execute(sa.delete(FormSubmission).where(FormSubmission.at < cutoff)).rowcount
        old_jobs = db.session.scalars(
            sa.select(BackgroundJob).where(
                BackgroundJob.status.in_([JobStatus.DONE, JobStatus.FAILED]), BackgroundJob.finished_at < cutoff
            )
        ).all()
        for job in old_jobs:
            if job.result_path:
                (results_root() / job.result_path).unlink(missing_ok=True)
            db.session.delete(job)
        db.session.commit()
    click.echo(f"removed {tokens} form tokens, {len(old_jobs)} finished jobs older than {days} days")
