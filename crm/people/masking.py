"""Phone numbers are personal data: shown in full only to the dealer lead and the person's own operator."""

from __future__ import annotations

import re

from crm.core.roles import Permission, Role, has_permission

ASSIGNABLE_ROLES = frozenset({Role.OPERATOR, Role.DEALER_LEAD})

CHINESE_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(raw: str) -> str:
    """Digits of a mobile number as typed ("138 0013 8000", "+86-13800138000") → "13800138000"."""
    digits = re.sub(r"\D", "", raw or "")
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def is_valid_mobile(phone: str) -> bool:
    """A mainland China mobile number: 11 digits starting 13–19."""
    return bool(CHINESE_MOBILE.match(phone))


def mask_phone(phone: str) -> str:
    """138****5678 (anything not a full mobile number is hidden entirely)."""
    if not phone:
        return ""
    if len(phone) == 11:
        return f"{phone[:3]}****{phone[-4:]}"
    return "****"


def can_see_phone(user, person) -> bool:
    """The dealer lead sees every number; an operator sees the numbers of the people assigned to them."""
    if has_permission(user, Permission.SEE_ALL_PHONES):
        return True
    if not getattr(user, "is_authenticated", False) or user.role not in ASSIGNABLE_ROLES:
        return False  # e.g. an operator since moved to installer keeps no access to "their" people
    return person.operator_id is not None and person.operator_id == user.id


def shown_phone(user, person) -> str:
    """The phone as `user` may see it."""
    return person.phone if can_see_phone(user, person) else mask_phone(person.phone)
