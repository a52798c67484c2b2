"""`crm backup DIR` / `crm restore DIR`: the database and the uploads round-trip together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm.core import backup
from crm.estates.models import Estate
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(root).parts)
    }


def _counts(app) -> dict[str, int]:
    with app.app_context():
        return backup._row_counts()


def _cli(app, *args):
    result = app.test_cli_runner().invoke(args=["crm", *args])
    return result


def test_a_backup_restores_the_database_and_the_uploads_as_they_were(app, world, upload_folder, tmp_path):
    uploads_before = _files(upload_folder)
    assert uploads_before, "the world has uploads (floor plans, photos, contracts)"
    counts_before = _counts(app)

    result = _cli(app, "backup", str(tmp_path))
    assert result.exit_code == 0, result.output
    [folder] = tmp_path.glob("pantu-backup-*")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["row_counts"]["estate"] == counts_before["estate"]
    assert manifest["schema_revision"]

    # Life goes on after the backup: a new estate, a lost file, a changed file.
    with app.app_context():
        create_estate(
            db.session, world.a.dealer_id, EstateFields(name="备份之后的楼盘", city_id=world.city_ids["齐齐哈尔"])
        )
        db.session.commit()
    lost, changed = sorted(uploads_before)[:2]
    (upload_folder / lost).unlink()
    (upload_folder / changed).write_bytes(b"overwritten")
    (upload_folder / "after-backup.txt").write_text("new")

    result = _cli(app, "restore", str(folder), "--yes")
    assert result.exit_code == 0, result.output

    assert _counts(app) == counts_before
    with app.app_context():
        assert db.session.scalar(sa.select(Estate.id).where(Estate.name == "备份之后的楼盘")) is None
        assert db.session.get(Estate, world.a.estate_id).name == world.a.estate_name
    assert _files(upload_folder) == uploads_before


def test_a_damaged_backup_is_refused_before_anything_changes(app, world, upload_folder, tmp_path):
    assert _cli(app, "backup", str(tmp_path)).exit_code == 0
    [folder] = tmp_path.glob("pantu-backup-*")
    with (folder / "uploads.tar").open("r+b") as archive:
        archive.seek(600)
        archive.write(b"\x00damaged\x00")
    with app.app_context():
        create_estate(
            db.session, world.a.dealer_id, EstateFields(name="不该被覆盖", city_id=world.city_ids["齐齐哈尔"])
        )
        db.session.commit()

    result = _cli(app, "restore", str(folder), "--yes")
    assert result.exit_code != 0
    assert "损坏" in result.output and "uploads.tar" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(Estate.id).where(Estate.name == "不该被覆盖")) is not None

    result = _cli(app, "restore", str(tmp_path), "--yes")  # not a backup folder at all
    assert result.exit_code != 0 and "manifest.json" in result.output


def test_an_interrupted_backup_leaves_nothing_that_looks_complete(app, world, tmp_path, monkeypatch):
    def fail():
        raise KeyboardInterrupt

    monkeypatch.setattr(backup, "_row_counts", fail)
    with pytest.raises(KeyboardInterrupt), app.app_context():
        backup.create_backup(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_restore_refuses_a_backup_of_another_database_kind(app, world, tmp_path):
    assert _cli(app, "backup", str(tmp_path)).exit_code == 0
    [folder] = tmp_path.glob("pantu-backup-*")
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["database"] = "postgresql" if manifest["database"] == "sqlite" else "sqlite"
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    result = _cli(app, "restore", str(folder), "--yes")
    assert result.exit_code != 0 and "当前数据库" in result.output
