import gzip
import json

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.forms import form_status, save_form
from crm.core.roles import Permission, permission_required, require
from crm.core.scoping import get_or_404
from crm.estates.models import City, Estate, EstateAge, EstateStage
from crm.estates.queries import districts
from crm.extensions import db
from crm.groups.queries import estate_group_summary
from crm.jobs.service import should_defer
from crm.jobs.views import start_job
from crm.maps import queries, service
from crm.maps.builder import STAGE_COLORS, build_map, build_placement_map
from crm.maps.coords import from_wgs84
from crm.maps.forms import PlaceForm
from crm.maps.tiles import tile_layer
from crm.org.models import Dealer
from crm.org.queries import visible_dealers
from crm.pdf.engine import pdf_response
from crm.pdf.traffic import traffic_map_pdf

bp = Blueprint("maps", __name__, url_prefix="/map")


def _filters() -> queries.MapFilters:
    filters = queries.MapFilters.from_args(request.args)
    if not current_user.is_hq:
        filters.dealer_id = None  # a dealer's map is its own territory; scoping does the rest
    return filters


@bp.route("/")
@permission_required(Permission.VIEW_MAP)
def index():
    """The traffic map of one city: stores with rings, estates loaded as GeoJSON and clustered."""
    filters = _filters()
    cities = queries.map_cities(db.session)
    if filters.city_id is None:
        filters.city_id = queries.default_city_id(cities, current_user.dealer)
    city = db.session.get(City, filters.city_id) if filters.city_id else None
    settings = queries.settings_for(db.session, current_user.dealer_id)
    tiles = tile_layer(settings.tile_provider)
    stores = queries.map_stores(db.session, filters.city_id, filters.dealer_id)
    rendered = build_map(
        queries.map_center(db.session, city, filters),
        tiles,
        stores,
        settings.store_ring_m,
        {
            "geojsonUrl": url_for("maps.estates_geojson", **filters.as_args()),
            "cardUrl": url_for("maps.estate_card", estate_id=0),
        },
    )
    return render_template(
        "maps/index.html",
        rendered=rendered,
        tiles=tiles,
        city=city,
        cities=cities,
        filters=filters,
        districts=districts(db.session, filters.city_id),
        dealers=visible_dealers(db.session) if current_user.is_hq else [],
        stages=list(EstateStage),
        ages=list(EstateAge),
        stage_colors=STAGE_COLORS,
        ring_km=settings.store_ring_m / 1000,
    )


@bp.route("/estates.geojson")
@permission_required(Permission.VIEW_MAP)
def estates_geojson():
    """The user's positioned estates matching the filters, in the datum of the user's tiles."""
    settings = queries.settings_for(db.session, current_user.dealer_id)
    system = tile_layer(settings.tile_provider).coord_system
    collection = queries.estate_features(db.session, _filters(), system)
    body = json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(body, mimetype="application/geo+json")
    # 10,000 estates are ~1.8 MB of JSON but ~0.2 MB gzipped: worth it on a tablet's mobile data.
    if "gzip" in request.headers.get("Accept-Encoding", "") and len(body) > 1024:
        response.set_data(gzip.compress(body, compresslevel=5))
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/estates/<int:estate_id>/card")
def estate_card(estate_id: int):
    """The estate card shown when a marker is clicked (an htmx partial)."""
    estate = get_or_404(Estate, estate_id)
    require(Permission.VIEW_MAP)
    distance = queries.nearest_store_m(estate, queries.dealer_stores(db.session, estate.dealer_id))
    return render_template(
        "maps/_estate_card.html",
        estate=estate,
        store_distance_m=distance,
        group_summary=estate_group_summary(db.session, estate.id),
    )


@bp.route("/estates/<int:estate_id>/place", methods=["GET", "POST"])
def place_estate(estate_id: int):
    """Manual placement: drag the marker (or tap the map) onto the estate, then save."""
    estate = get_or_404(Estate, estate_id)
    require(Permission.EDIT_ESTATES)
    settings = queries.settings_for(db.session, current_user.dealer_id)
    tiles = tile_layer(settings.tile_provider)
    form = PlaceForm()
    if save_form(
        form, lambda: service.place_estate(db.session, estate, form.lng.data, form.lat.data, tiles.coord_system)
    ):
        flash(_("已定位：%(name)s", name=estate.name), "success")
        return redirect(url_for("estates.detail", estate_id=estate.id))
    if estate.has_position:
        lng, lat = from_wgs84(estate.lng, estate.lat, tiles.coord_system)
    else:
        center_lat, center_lng = queries.map_center(db.session, estate.city, queries.MapFilters(city_id=estate.city_id))
        lng, lat = from_wgs84(center_lng, center_lat, tiles.coord_system)
    if request.method == "GET":
        form.lng.data, form.lat.data = round(lng, 6), round(lat, 6)
    stores = queries.map_stores(db.session, estate.city_id, estate.dealer_id)
    rendered = build_placement_map((lat, lng), tiles, stores)
    return render_template("maps/place.html", estate=estate, form=form, rendered=rendered, tiles=tiles), form_status()


@bp.route("/print.pdf")
@permission_required(Permission.VIEW_MAP)
def traffic_pdf():
    """The traffic map of one city as an A3 landscape PDF (same filters as the map page): map, then estate table."""
    filters = _filters()
    if filters.city_id is None:
        filters.city_id = queries.default_city_id(queries.map_cities(db.session), current_user.dealer)
    city = db.session.get(City, filters.city_id) if filters.city_id else None
    if current_user.is_hq:
        dealer = db.session.get(Dealer, filters.dealer_id) if filters.dealer_id else None
    else:
        dealer = current_user.dealer
    dealer_name = dealer.name if dealer else _("总部")
    show_dealer = dealer is None  # HQ looking at every dealer: say whose each estate is
    if city is not None and should_defer(queries.count_estates(db.session, filters), "JOB_THRESHOLD_MAP_ESTATES"):
        params = {"filters": filters.as_args(), "dealer_name": dealer_name, "show_dealer": show_dealer}
        return start_job("maps.traffic_pdf", params, _("楼盘流量地图：%(city)s", city=city.name))
    pdf, filename = traffic_map_pdf(db.session, filters, city, dealer_name=dealer_name, show_dealer=show_dealer)
    return pdf_response(pdf, filename)
