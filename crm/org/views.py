from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.forms import form_status, save_form
from crm.core.roles import Permission, Role, permission_required, require
from crm.core.scoping import get_or_404
from crm.estates.queries import all_cities
from crm.extensions import db
from crm.org import queries, service
from crm.org.forms import DealerForm, StoreForm, UserForm
from crm.org.models import Dealer, Store, User

bp = Blueprint("org", __name__)


# ---- dealers ---------------------------------------------------------------------------------


@bp.route("/dealers/")
@permission_required(Permission.VIEW_DEALERS)
def dealers():
    rows = queries.dealers_with_counts(db.session)
    return render_template("org/dealers.html", rows=rows)


def _dealer_fields(form: DealerForm) -> service.DealerFields:
    return service.DealerFields(
        code=form.code.data or "",
        name=form.name.data or "",
        city_id=form.city_id.data,
        territory=form.territory.data or "",
        is_active=form.is_active.data,
    )


@bp.route("/dealers/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_DEALERS)
def create_dealer():
    form = DealerForm(cities=all_cities(db.session))

    def create():
        brand = service.get_or_create_brand(db.session, current_app.config.get("BRAND_NAME", "盘图品牌"))
        return service.create_dealer(db.session, brand, _dealer_fields(form))

    if dealer := save_form(form, create):
        flash(_("已添加经销商：%(name)s", name=dealer.name), "success")
        return redirect(url_for("org.dealer_detail", dealer_id=dealer.id))
    return render_template("org/dealer_form.html", form=form, dealer=None), form_status()


@bp.route("/dealers/<int:dealer_id>")
def dealer_detail(dealer_id: int):
    dealer = get_or_404(Dealer, dealer_id)
    require(Permission.VIEW_DEALERS)
    stores = queries.dealer_stores(db.session, dealer)
    return render_template("org/dealer_detail.html", dealer=dealer, stores=stores)


@bp.route("/dealers/<int:dealer_id>/edit", methods=["GET", "POST"])
def edit_dealer(dealer_id: int):
    dealer = get_or_404(Dealer, dealer_id)
    require(Permission.MANAGE_DEALERS)
    form = DealerForm(obj=dealer, cities=all_cities(db.session))
    if save_form(form, lambda: service.update_dealer(db.session, dealer, _dealer_fields(form))):
        flash(_("已保存"), "success")
        return redirect(url_for("org.dealer_detail", dealer_id=dealer.id))
    return render_template("org/dealer_form.html", form=form, dealer=dealer), form_status()


# ---- stores ----------------------------------------------------------------------------------


def _store_fields(form: StoreForm) -> service.StoreFields:
    return service.StoreFields(
        name=form.name.data or "",
        city_id=form.city_id.data,
        address=form.address.data or "",
        phone=form.phone.data or "",
        coord_system=form.coord_system.data,
        lng=form.lng.data,
        lat=form.lat.data,
    )


@bp.route("/dealers/<int:dealer_id>/stores/new", methods=["GET", "POST"])
def create_store(dealer_id: int):
    dealer = get_or_404(Dealer, dealer_id)
    require(Permission.MANAGE_STORES)
    form = StoreForm(cities=all_cities(db.session))
    if request.method == "GET":
        form.city_id.data = dealer.city_id
    if store := save_form(form, lambda: service.create_store(db.session, dealer, _store_fields(form))):
        flash(_("已添加门店：%(name)s", name=store.name), "success")
        return redirect(url_for("org.dealer_detail", dealer_id=dealer.id))
    return render_template("org/store_form.html", form=form, dealer=dealer, store=None), form_status()


@bp.route("/stores/<int:store_id>/edit", methods=["GET", "POST"])
def edit_store(store_id: int):
    store = get_or_404(Store, store_id)
    require(Permission.MANAGE_STORES)
    form = StoreForm(obj=store, cities=all_cities(db.session))
    if request.method == "GET":
        form.lng.data, form.lat.data = store.position_as_entered()
        form.coord_system.data = store.coord_system.value
    if save_form(form, lambda: service.update_store(db.session, store, _store_fields(form))):
        flash(_("已保存"), "success")
        return redirect(url_for("org.dealer_detail", dealer_id=store.dealer_id))
    return render_template("org/store_form.html", form=form, dealer=store.dealer, store=store), form_status()


# ---- users -----------------------------------------------------------------------------------


@bp.route("/users/")
@permission_required(Permission.MANAGE_USERS)
def users():
    dealer_filter = request.args.get("dealer_id", type=int) if current_user.is_hq else None
    page = db.paginate(queries.users_query(dealer_filter), per_page=50, error_out=False)
    dealers = queries.visible_dealers(db.session) if current_user.is_hq else []
    return render_template("org/users.html", page=page, dealers=dealers, dealer_filter=dealer_filter)


def _user_form(user: User | None = None) -> UserForm:
    is_hq_admin = current_user.role == Role.HQ_ADMIN
    dealers = queries.visible_dealers(db.session) if is_hq_admin else []
    form = UserForm(obj=user, roles=service.assignable_roles(current_user), dealers=dealers)
    if not is_hq_admin:
        del form.dealer_id  # dealer leads only ever manage their own dealer's staff
    if request.method == "GET":
        if user is not None:
            form.role.data = user.role.value
            form.is_active.data = user.is_active_account
        form.password.data = ""
    return form


def _user_fields(form: UserForm) -> service.UserFields:
    return service.UserFields(
        username=form.username.data or "",
        role=form.role.data,
        dealer_id=form.dealer_id.data if "dealer_id" in form else current_user.dealer_id,
        display_name=form.display_name.data or "",
        phone=form.phone.data or "",
        password=form.password.data or "",
        is_active=form.is_active.data,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_USERS)
def create_user():
    form = _user_form()
    if user := save_form(form, lambda: service.create_user(db.session, current_user, _user_fields(form))):
        flash(_("已创建账号：%(username)s", username=user.username), "success")
        return redirect(url_for("org.users"))
    return render_template("org/user_form.html", form=form, user=None), form_status()


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = get_or_404(User, user_id)
    require(Permission.MANAGE_USERS)
    form = _user_form(user)
    if save_form(form, lambda: service.update_user(db.session, current_user, user, _user_fields(form))):
        flash(_("已保存"), "success")
        return redirect(url_for("org.users"))
    return render_template("org/user_form.html", form=form, user=user), form_status()
