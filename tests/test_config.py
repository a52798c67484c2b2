import pytest

from crm import create_app
from crm.config import ConfigError, build_config


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PANTU_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()


def test_development_gets_a_throwaway_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PANTU_ENV", "development")
    assert build_config()["SECRET_KEY"]


def test_database_url_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("PANTU_ENV", "development")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/pantu")
    assert build_config()["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/pantu"
    monkeypatch.delenv("DATABASE_URL")
    assert build_config()["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert build_config()["SQLALCHEMY_DATABASE_URI"].endswith("instance/pantu.sqlite3")


def test_upload_folder_and_tiles_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PANTU_ENV", "development")
    monkeypatch.setenv("UPLOAD_FOLDER", str(tmp_path))
    monkeypatch.setenv("MAP_TILE_PROVIDER", "gaode")
    config = build_config()
    assert config["UPLOAD_FOLDER"] == str(tmp_path)
    assert config["MAP_TILE_PROVIDER"] == "gaode"


def test_healthz_reports_the_database(client, app):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": True}
