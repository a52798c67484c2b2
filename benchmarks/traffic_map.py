"""Traffic map at scale: 10,000 estates in one city.

Prints the map page's server time and HTML size, the GeoJSON endpoint's time and bytes, and,
in the same run, the same map built the naive way (one folium.Marker per estate).

    .venv/bin/python benchmarks/traffic_map.py [--estates 10000] [--runs 5] [--database-url URL]

Without --database-url it uses a throwaway SQLite file. Goal (issue 3): page < 200 ms and
< 300 KB at 10,000 estates; the naive build at least 20× slower.
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import folium  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from flask_migrate import upgrade  # noqa: E402

from crm import create_app  # noqa: E402
from crm.core.roles import Role  # noqa: E402
from crm.core.scoping import unscoped  # noqa: E402
from crm.estates.models import Estate, EstateStage, normalize_estate_name  # noqa: E402
from crm.extensions import db  # noqa: E402
from crm.org.service import (  # noqa: E402
    DealerFields,
    StoreFields,
    create_dealer,
    create_store,
    create_user_unchecked,
    get_or_create_brand,
    get_or_create_city,
)

PASSWORD = "benchmark-password"


def seed(app, count: int) -> None:
    rng = random.Random(42)
    stages = [s.value for s in EstateStage]
    with app.app_context(), unscoped():
        brand = get_or_create_brand(db.session, "基准品牌")
        city = get_or_create_city(db.session, "齐齐哈尔", "黑龙江省", 47.3543, 123.9182)
        dealer = create_dealer(db.session, brand, DealerFields(code="BENCH", name="基准经销商", city_id=city.id))
        create_store(db.session, dealer, StoreFields(name="基准门店", city_id=city.id, lat=47.3448, lng=123.9555))
        create_user_unchecked(db.session, "bench_lead", PASSWORD, Role.DEALER_LEAD, dealer)
        db.session.flush()
        rows = []
        for i in range(count):
            name = f"基准小区{i:05d}"
            rows.append(
                {
                    "dealer_id": dealer.id,
                    "city_id": city.id,
                    "name": name,
                    "name_key": normalize_estate_name(name),
                    "district": rng.choice(["龙沙区", "建华区", "铁锋区", "昂昂溪区"]),
                    "address": "",
                    "lat": 47.3543 + rng.uniform(-0.15, 0.15),
                    "lng": 123.9182 + rng.uniform(-0.2, 0.2),
                    "coord_system": "wgs84",
                    "households": rng.randrange(200, 3000),
                    "delivery_date": date(rng.randint(2015, 2028), rng.randint(1, 12), 1),
                    "age": rng.choice(["new", "old"]),
                    "finish": rng.choice(["rough", "finished"]),
                    "avg_price": rng.randrange(5000, 12000),
                    "developer": "",
                    "source": "benchmark",
                    "competitors": "",
                    "notes": "",
                    "stage": rng.choice(stages),
                }
            )
        now = sa.func.now() if db.engine.dialect.name == "postgresql" else sa.func.current_timestamp()
        db.session.execute(sa.insert(Estate).values(created_at=now, updated_at=now), rows)
        db.session.commit()


def timed(fn, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def naive_map(app) -> str:
    """The same map the way folium's tutorials draw it: one Marker per estate, all inline."""
    with app.app_context(), unscoped():
        points = db.session.execute(sa.select(Estate.lat, Estate.lng, Estate.name)).all()
    fmap = folium.Map(location=[47.3543, 123.9182], zoom_start=12)
    for lat, lng, name in points:
        folium.Marker([lat, lng], tooltip=name).add_to(fmap)
    return fmap.get_root().render()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--estates", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "UPLOAD_FOLDER": tmp.name,
        }
    )
    with app.app_context():
        upgrade()
    start = time.perf_counter()
    seed(app, args.estates)
    backend = url.split(":")[0]
    print(f"seeded {args.estates:,} estates in {time.perf_counter() - start:.1f} s ({backend})")

    client = app.test_client()
    assert client.post("/login", data={"username": "bench_lead", "password": PASSWORD}).status_code == 302
    client.get("/map/")  # warm-up: templates, first queries
    page_time, page = timed(lambda: client.get("/map/"), args.runs)
    geo_time, geo = timed(lambda: client.get("/map/estates.geojson"), args.runs)
    features = len(geo.json["features"])
    naive_time, naive_html = timed(lambda: naive_map(app), max(1, min(args.runs, 2)))

    page_kb = len(page.data) / 1024
    geo_kb = len(geo.data) / 1024
    geo_gz_kb = len(gzip.compress(geo.data)) / 1024
    print(f"map page      {page_time * 1000:8.1f} ms  {page_kb:8.1f} KB HTML")
    print(
        f"GeoJSON       {geo_time * 1000:8.1f} ms  {geo_kb:8.1f} KB ({geo_gz_kb:.1f} KB gzipped), {features:,} features"
    )
    print(f"page + data   {(page_time + geo_time) * 1000:8.1f} ms")
    print(f"naive folium  {naive_time * 1000:8.1f} ms  {len(naive_html) / 1024:8.1f} KB HTML (one Marker per estate)")
    both = page_time + geo_time
    print(f"naive / page  {naive_time / page_time:8.1f}×   naive / (page + GeoJSON) {naive_time / both:.1f}×")
    goal = page_time < 0.2 and page_kb < 300 and naive_time / page_time >= 20
    print("goal (page < 200 ms and < 300 KB, naive ≥ 20× slower):", "met" if goal else "NOT met")
    with app.app_context():
        db.engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
