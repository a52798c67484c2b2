"""Backups of the database and the uploads together, and restoring them.

A backup is a folder `pantu-backup-<UTC time>/` holding:
  database.sqlite3   (SQLite, copied with SQLite's online backup API: consistent while the app runs)
  database.dump      (PostgreSQL, `pg_dump --format=custom`: one consistent snapshot)
  uploads.tar        (UPLOAD_FOLDER: images, floor plans, signed contract PDFs…)
  manifest.json      (when, which database kind, the schema revision, row counts, SHA-256 of each file)

It is written into a hidden temporary folder and renamed into place only when complete, so an
interrupted backup never looks like a good one. Restore checks the manifest and every checksum
before it touches anything, restores the database in one transaction, and swaps the uploads in
only after they were fully extracted.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db

MANIFEST = "manifest.json"
UPLOADS = "uploads.tar"
FORMAT_VERSION = 1


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why (Chinese, then English)."""


@dataclass
class BackupResult:
    path: Path
    manifest: dict


def _url() -> sa.URL:
    return db.engine.url


def _kind(url: sa.URL) -> str:
    if url.get_backend_name() == "sqlite":
        return "sqlite"
    if url.get_backend_name() == "postgresql":
        return "postgresql"
    raise BackupError(f"不支持的数据库 / unsupported database: {url.get_backend_name()}")


def _libpq_uri(url: sa.URL) -> str:
    """The URL as pg_dump/pg_restore take it (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{command[0]} 失败 / failed: {result.stderr.strip()[:2000]}")


def _row_counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables
        }


def _schema_revision() -> str | None:
    with db.engine.connect() as conn:
        try:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
        except sa.exc.DatabaseError:
            return None


def create_backup(target_dir: str | Path) -> BackupResult:
    """Write a complete backup folder under `target_dir` and return where it is."""
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    url = _url()
    kind = _kind(url)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    final = target_dir / f"pantu-backup-{stamp}"
    work = Path(tempfile.mkdtemp(prefix=".pantu-backup-", dir=target_dir))
    try:
        if kind == "sqlite":
            database_file = work / "database.sqlite3"
            source = sqlite3.connect(url.database)
            try:
                destination = sqlite3.connect(database_file)
                with destination:
                    source.backup(destination)
                destination.close()
            finally:
                source.close()
        else:
            database_file = work / "database.dump"
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--file",
                    str(database_file),
                    _libpq_uri(url),
                ]
            )
        uploads_file = work / UPLOADS
        upload_root = Path(current_app.config["UPLOAD_FOLDER"])
        with tarfile.open(uploads_file, "w") as archive:
            if upload_root.is_dir():
                for child in sorted(upload_root.iterdir()):
                    if not child.name.startswith("."):
                        archive.add(child, arcname=child.name)
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(),
            "database": kind,
            "schema_revision": _schema_revision(),
            "row_counts": _row_counts(),
            "files": {path.name: _sha256(path) for path in (database_file, uploads_file)},
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupResult(final, manifest)


def read_manifest(backup_dir: str | Path) -> dict:
    """The backup's manifest after checking every file against its checksum."""
    backup_dir = Path(backup_dir)
    manifest_path = backup_dir / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"不是盘图备份（缺少 {MANIFEST}） / not a backup folder: {backup_dir}")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError("备份格式版本不符 / unknown backup format")
    for name, expected in manifest["files"].items():
        path = backup_dir / name
        if not path.is_file() or _sha256(path) != expected:
            raise BackupError(f"备份文件损坏或缺失 / damaged or missing: {name}")
    return manifest


def restore_backup(backup_dir: str | Path) -> dict:
    """Replace the database and the uploads with the backup's. Returns the manifest."""
    backup_dir = Path(backup_dir)
    manifest = read_manifest(backup_dir)
    url = _url()
    kind = _kind(url)
    if manifest["database"] != kind:
        raise BackupError(f"备份来自 {manifest['database']}，当前数据库是 {kind} / database kinds differ")
    uploads_staged = _stage_uploads(backup_dir / UPLOADS)
    try:
        db.session.remove()
        db.engine.dispose()
        if kind == "sqlite":
            source = sqlite3.connect(backup_dir / "database.sqlite3")
            try:
                destination = sqlite3.connect(url.database)
                try:
                    source.backup(destination)
                finally:
                    destination.close()
            finally:
                source.close()
        else:
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--dbname",
                    _libpq_uri(url),
                    str(backup_dir / "database.dump"),
                ]
            )
        db.engine.dispose()
        _swap_in_uploads(uploads_staged)
    finally:
        shutil.rmtree(uploads_staged, ignore_errors=True)
    return manifest


def _stage_uploads(archive_path: Path) -> Path:
    """Extract the uploads next to the live folder (same file system, so the swap is renames)."""
    upload_root = Path(current_app.config["UPLOAD_FOLDER"])
    upload_root.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".restoring-", dir=upload_root))
    with tarfile.open(archive_path, "r") as archive:
        archive.extractall(staged, filter="data")  # refuses absolute paths, .. and links out of the folder
    return staged


def _swap_in_uploads(staged: Path) -> None:
    upload_root = staged.parent
    replaced = Path(tempfile.mkdtemp(prefix=".replaced-", dir=upload_root))
    for child in upload_root.iterdir():
        if not child.name.startswith("."):
            child.rename(replaced / child.name)
    for child in staged.iterdir():
        child.rename(upload_root / child.name)
    shutil.rmtree(replaced, ignore_errors=True)
