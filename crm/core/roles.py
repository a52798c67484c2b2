"""Roles and what each may do. Views ask `require(Permission.X)` after loading their object."""

from __future__ import annotations

from enum import StrEnum
from functools import wraps

from flask import abort
from flask_login import current_user

from crm.core.i18n import lazy_gettext as _l


class Role(StrEnum):
    HQ_ADMIN = "hq_admin"
    HQ_VIEWER = "hq_viewer"
    DEALER_LEAD = "dealer_lead"
    OPERATOR = "operator"
    ASSISTANT = "assistant"
    DESIGNER = "designer"
    CONSULTANT = "consultant"
    INSTALLER = "installer"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])

    @property
    def is_hq(self) -> bool:
        return self in HQ_ROLES


ROLE_LABELS = {
    Role.HQ_ADMIN: _l("总部管理员"),
    Role.HQ_VIEWER: _l("总部查看"),
    Role.DEALER_LEAD: _l("社群负责人"),
    Role.OPERATOR: _l("主IP"),
    Role.ASSISTANT: _l("马甲/客服"),
    Role.DESIGNER: _l("设计师"),
    Role.CONSULTANT: _l("顾问导购"),
    Role.INSTALLER: _l("安装工"),
}

HQ_ROLES = frozenset({Role.HQ_ADMIN, Role.HQ_VIEWER})
DEALER_ROLES = tuple(role for role in Role if role not in HQ_ROLES)


class Permission(StrEnum):
    MANAGE_DEALERS = "manage_dealers"  # create/edit dealers (HQ only)
    VIEW_DEALERS = "view_dealers"  # see the dealer list / own dealer page
    MANAGE_STORES = "manage_stores"
    MANAGE_USERS = "manage_users"
    VIEW_ESTATES = "view_estates"
    EDIT_ESTATES = "edit_estates"
    IMPORT_ESTATES = "import_estates"  # upload a listing site's estate list
    GEOCODE_ESTATES = "geocode_estates"  # batch-position estates from their addresses
    VIEW_MAP = "view_map"
    VIEW_TARGETS = "view_targets"  # the scored estate ranking and the traffic pool
    MANAGE_TARGETS = "manage_targets"  # weights, rates, map settings, bulk-mark targets
    VIEW_PLANS = "view_plans"  # battle plans: staff follow them, HQ reviews them
    MANAGE_PLANS = "manage_plans"
    VIEW_GROUPS = "view_groups"  # groups and their members are dealer data: HQ sees aggregates elsewhere
    EDIT_GROUPS = "edit_groups"
    VIEW_PEOPLE = "view_people"
    EDIT_PEOPLE = "edit_people"
    IMPORT_PEOPLE = "import_people"
    SEE_ALL_PHONES = "see_all_phones"  # full numbers of every person (else masked unless the person is yours)
    VIEW_PLAYBOOKS = "view_playbooks"  # the script library: the dealer's playbooks and HQ's templates
    EDIT_PLAYBOOKS = "edit_playbooks"  # write playbooks (HQ writes the templates, a dealer its own)
    RUN_SCRIPTS = "run_scripts"  # apply a playbook to a group, pause, shift, stop
    DO_SCRIPT_TASKS = "do_script_tasks"  # the 今天 list: post the scripts one plays
    VIEW_PROPOSALS = "view_proposals"
    EDIT_PROPOSALS = "edit_proposals"  # write proposals, their images and product lists, share them
    RECORD_CONSENT = "record_consent"  # record or withdraw an owner's consent to show their design
    REVIEW_PROPOSALS = "review_proposals"  # enter neighbours' comments from the group, mark flaws
    RESOLVE_FLAWS = "resolve_flaws"
    VIEW_OFFERS = "view_offers"
    MANAGE_OFFERS = "manage_offers"  # products, group-buy offers, tiers, promises
    VIEW_ORDERS = "view_orders"
    EDIT_ORDERS = "edit_orders"  # take orders, change their lines and status, draft contracts
    SIGN_CONTRACTS = "sign_contracts"  # mark a contract signed (freezing it), cancel an order
    MANAGE_INSTALLS = "manage_installs"  # schedule installation jobs, edit the inspection standard
    VIEW_COVERAGE = "view_coverage"  # HQ's coverage of every dealer: aggregates and estate facts, never people
    DECIDE_COVERAGE = "decide_coverage"  # penalties/support, territory rulings, base deals, thresholds
    VIEW_AUDIT = "view_audit"  # the audit trail: a dealer lead their dealer's, HQ its own decisions'


_DEALER_STAFF = {Role.DEALER_LEAD, Role.OPERATOR, Role.ASSISTANT, Role.DESIGNER, Role.CONSULTANT}

ROLE_PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.MANAGE_DEALERS: frozenset({Role.HQ_ADMIN}),
    Permission.VIEW_DEALERS: frozenset({Role.HQ_ADMIN, Role.HQ_VIEWER, Role.DEALER_LEAD}),
    Permission.MANAGE_STORES: frozenset({Role.HQ_ADMIN, Role.DEALER_LEAD}),
    Permission.MANAGE_USERS: frozenset({Role.HQ_ADMIN, Role.DEALER_LEAD}),
    Permission.VIEW_ESTATES: frozenset(set(Role)),
    # Estates are dealer data: staff who hunt and work estates edit them; HQ reviews, installers read.
    Permission.EDIT_ESTATES: frozenset(_DEALER_STAFF),
    Permission.IMPORT_ESTATES: frozenset({Role.DEALER_LEAD, Role.OPERATOR}),
    Permission.GEOCODE_ESTATES: frozenset(_DEALER_STAFF),
    Permission.VIEW_MAP: frozenset(set(Role)),
    Permission.VIEW_TARGETS: frozenset(_DEALER_STAFF),
    Permission.MANAGE_TARGETS: frozenset({Role.DEALER_LEAD}),
    Permission.VIEW_PLANS: frozenset(set(Role)),
    Permission.MANAGE_PLANS: frozenset({Role.DEALER_LEAD}),
    Permission.VIEW_GROUPS: frozenset(_DEALER_STAFF),
    Permission.EDIT_GROUPS: frozenset({Role.DEALER_LEAD, Role.OPERATOR, Role.ASSISTANT}),
    Permission.VIEW_PEOPLE: frozenset(_DEALER_STAFF | {Role.INSTALLER}),
    Permission.EDIT_PEOPLE: frozenset(_DEALER_STAFF),
    # An import preview matches on phone numbers: only roles that may see every number may run one.
    Permission.IMPORT_PEOPLE: frozenset({Role.DEALER_LEAD}),
    Permission.SEE_ALL_PHONES: frozenset({Role.DEALER_LEAD}),
    Permission.VIEW_PLAYBOOKS: frozenset(_DEALER_STAFF | HQ_ROLES),
    # The 主IP writes the scripts in the seed; HQ admins write the templates every dealer copies.
    Permission.EDIT_PLAYBOOKS: frozenset({Role.HQ_ADMIN, Role.DEALER_LEAD, Role.OPERATOR}),
    Permission.RUN_SCRIPTS: frozenset({Role.DEALER_LEAD, Role.OPERATOR}),
    Permission.DO_SCRIPT_TASKS: frozenset(_DEALER_STAFF),
    Permission.VIEW_PROPOSALS: frozenset(_DEALER_STAFF | {Role.INSTALLER}),
    Permission.EDIT_PROPOSALS: frozenset({Role.DEALER_LEAD, Role.DESIGNER, Role.OPERATOR}),
    Permission.RECORD_CONSENT: frozenset({Role.DEALER_LEAD, Role.DESIGNER, Role.OPERATOR, Role.CONSULTANT}),
    Permission.REVIEW_PROPOSALS: frozenset(_DEALER_STAFF),
    Permission.RESOLVE_FLAWS: frozenset({Role.DEALER_LEAD, Role.DESIGNER}),
    Permission.VIEW_OFFERS: frozenset(_DEALER_STAFF),
    Permission.MANAGE_OFFERS: frozenset({Role.DEALER_LEAD}),
    Permission.VIEW_ORDERS: frozenset(_DEALER_STAFF),
    # Prices and contracts are the sales side's: not designers, helper accounts or installers.
    Permission.EDIT_ORDERS: frozenset({Role.DEALER_LEAD, Role.OPERATOR, Role.CONSULTANT}),
    Permission.SIGN_CONTRACTS: frozenset({Role.DEALER_LEAD}),
    Permission.MANAGE_INSTALLS: frozenset({Role.DEALER_LEAD}),
    Permission.VIEW_COVERAGE: HQ_ROLES,
    Permission.DECIDE_COVERAGE: frozenset({Role.HQ_ADMIN}),
    Permission.VIEW_AUDIT: frozenset({Role.DEALER_LEAD}) | HQ_ROLES,
}


def has_permission(user, permission: Permission) -> bool:
    """True if `user` (possibly anonymous) holds `permission` through their role."""
    if not getattr(user, "is_authenticated", False):
        return False
    return Role(user.role) in ROLE_PERMISSIONS[permission]


def require(permission: Permission) -> None:
    """Abort with 403 unless the current user holds `permission`."""
    if not has_permission(current_user, permission):
        abort(403)


def permission_required(permission: Permission):
    """Decorator for routes that load no object: check the role before anything else."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            require(permission)
            return view(*args, **kwargs)

        return wrapped

    return decorator
