"""The battle-map and city traffic-map PDFs at 10, 100 and 300 estates: cold render, then the cached download.

For each size it seeds one dealer in one city (with two stores) into a throwaway SQLite database,
puts every estate into one battle plan (staggered phases), downloads /plans/<id>/print.pdf and
/map/print.pdf twice each as the dealer lead and prints time, pages and bytes. The cold time is
split into WeasyPrint's share and the rest (queries, SVG map, template).

    .venv/bin/python benchmarks/pdf_render.py [--estates 10 100 300] [--out DIR]

The process's one-off cost (importing WeasyPrint, loading the font configuration) is measured
first and kept out of the per-size figures. --out keeps each PDF for a look.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
from crm.pdf import engine  # noqa: E402

PASSWORD = "benchmark-password"
HEADS = ("万达", "恒大", "碧桂园", "保利", "中海", "龙湖", "融创", "万科", "绿地", "金地", "华润", "富力")
TAILS = ("华府", "公园里", "翡翠城", "悦府", "天玺", "御湖湾", "未来城", "壹号院", "学府里", "江山樾", "锦城", "澜湾")


def seed(app, count: int) -> None:
    """One dealer in 齐齐哈尔 with two stores and `count` estates spread over the city (5% unpositioned)."""
    rng = random.Random(count)
    stages = [s.value for s in EstateStage]
    with app.app_context(), unscoped():
        brand = get_or_create_brand(db.session, "基准品牌")
        city = get_or_create_city(db.session, "齐齐哈尔", "黑龙江省", 47.3543, 123.9182)
        dealer = create_dealer(db.session, brand, DealerFields(code="BENCH", name="基准经销商", city_id=city.id))
        create_store(db.session, dealer, StoreFields(name="龙沙旗舰店", city_id=city.id, lat=47.3448, lng=123.9555))
        create_store(db.session, dealer, StoreFields(name="建华体验店", city_id=city.id, lat=47.3619, lng=123.9656))
        create_user_unchecked(db.session, "bench_lead", PASSWORD, Role.DEALER_LEAD, dealer)
        db.session.flush()
        rows = []
        for i in range(count):
            name = f"{HEADS[i % len(HEADS)]}{TAILS[(i // len(HEADS)) % len(TAILS)]}{i // 144 + 1}期"
            positioned = rng.random() > 0.05
            rows.append(
                {
                    "dealer_id": dealer.id,
                    "city_id": city.id,
                    "name": name,
                    "name_key": normalize_estate_name(name),
                    "district": rng.choice(["龙沙区", "建华区", "铁锋区", "昂昂溪区"]),
                    "address": "",
                    "lat": 47.3543 + rng.uniform(-0.08, 0.08) if positioned else None,
                    "lng": 123.9182 + rng.uniform(-0.12, 0.12) if positioned else None,
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
        now = sa.func.current_timestamp()
        if rows:
            db.session.execute(sa.insert(Estate).values(created_at=now, updated_at=now), rows)
        db.session.commit()


def pages(pdf: bytes) -> int:
    """Page count, from pdfinfo when poppler-utils is installed."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        try:
            info = subprocess.run(["pdfinfo", handle.name], capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            return pdf.count(b"/Type /Page\n")
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def seed_plan(app) -> int:
    """One plan holding every estate of the dealer, a week apart, led by the dealer lead."""
    from datetime import timedelta

    from crm.org.models import User
    from crm.plans.service import PlanFields, TeamFields, add_estate, assign_team, create_plan

    with app.app_context(), unscoped():
        lead = db.session.scalars(sa.select(User).where(User.username == "bench_lead")).one()
        estates = db.session.scalars(sa.select(Estate).order_by(Estate.id)).all()
        start = date(2027, 1, 4)
        plan = create_plan(
            db.session,
            lead.dealer_id,
            PlanFields(
                title="基准作战规划",
                city_id=estates[0].city_id,
                period="2027",
                starts_on=start,
                ends_on=date(2027, 12, 31),
            ),
        )
        for index, estate in enumerate(estates):
            item = add_estate(db.session, plan, estate, starts_on=start + timedelta(days=(index % 40) * 7))
            assign_team(db.session, item, TeamFields(lead_id=lead.id, operator_id=lead.id))
        db.session.commit()
        return plan.id


def measure(client, label: str, url: str, count: int, out: Path | None) -> None:
    weasy = []
    real = engine._write_pdf

    def timed_write(html: str) -> bytes:
        begin = time.perf_counter()
        try:
            return real(html)
        finally:
            weasy.append(time.perf_counter() - begin)

    engine._write_pdf = timed_write
    try:
        begin = time.perf_counter()
        cold = client.get(url)
        cold_s = time.perf_counter() - begin
        begin = time.perf_counter()
        cached = client.get(url)
        cached_s = time.perf_counter() - begin
    finally:
        engine._write_pdf = real
    assert cold.status_code == cached.status_code == 200 and cold.data == cached.data and len(weasy) == 1
    print(
        f"{label:11s} {count:4d} estates  cold {cold_s:6.2f} s (WeasyPrint {weasy[0]:5.2f} s, "
        f"rest {cold_s - weasy[0]:4.2f} s)  cached {cached_s * 1000:6.1f} ms  {pages(cold.data):3d} pages  "
        f"{len(cold.data) / 1024:7.1f} KB"
    )
    if out:
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{label.replace(' ', '-')}-{count}.pdf").write_bytes(cold.data)


def run(count: int, out: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
                "WTF_CSRF_ENABLED": False,
                "UPLOAD_FOLDER": tmp,
                "PDF_CACHE_DIR": str(Path(tmp) / "pdf-cache"),
            }
        )
        with app.app_context():
            upgrade()
        seed(app, count)
        plan_id = seed_plan(app)
        client = app.test_client()
        assert client.post("/login", data={"username": "bench_lead", "password": PASSWORD}).status_code == 302

        for label, url in (("battle map", f"/plans/{plan_id}/print.pdf"), ("traffic map", "/map/print.pdf")):
            measure(client, label, url, count, out)
        with app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--estates", type=int, nargs="+", default=[10, 100, 300])
    parser.add_argument("--out", type=Path, help="keep the PDFs in this folder")
    args = parser.parse_args()

    start = time.perf_counter()
    import weasyprint  # noqa: F401

    engine._shared_font_config()
    print(f"one-off per process: import WeasyPrint + font configuration {time.perf_counter() - start:.2f} s")
    for count in args.estates:
        run(count, args.out)


if __name__ == "__main__":
    main()
