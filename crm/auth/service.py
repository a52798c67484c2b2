"""Authentication: password hashing, throttled login, user creation."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from crm.auth.models import LoginAttempt
from crm.core.models import utcnow
from crm.core.scoping import unscoped
from crm.org.models import User

# Failures from one address across many usernames are throttled more loosely than per account.
IP_FAILURE_FACTOR = 4
# Attempts older than this are of no use to throttling and are pruned.
ATTEMPT_RETENTION = timedelta(days=7)


class LoginThrottled(Exception):
    """Too many recent failures for this account or address."""


def hash_password(password: str) -> str:
    """Hash a password with the configured method (scrypt in production)."""
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def normalize_username(username: str) -> str:
    return username.strip().lower()


def _recent_failures(session: Session, column, value: str) -> int:
    window = timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"])
    since = utcnow() - window
    last_success = (
        sa.select(sa.func.max(LoginAttempt.attempted_at))
        .where(column == value, LoginAttempt.succeeded.is_(True))
        .scalar_subquery()
    )
    query = sa.select(sa.func.count()).where(
        column == value,
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.attempted_at >= since,
        sa.or_(last_success.is_(None), LoginAttempt.attempted_at > last_success),
    )
    return session.execute(query).scalar_one()


def authenticate(session: Session, username: str, password: str, ip_address: str) -> User | None:
    """Return the active user matching the credentials, or None; raise LoginThrottled when locked out.

    Every attempt is recorded; a success clears the account's failure count.
    """
    username = normalize_username(username)
    max_failures = current_app.config["LOGIN_MAX_FAILURES"]
    if (
        _recent_failures(session, LoginAttempt.username, username) >= max_failures
        or _recent_failures(session, LoginAttempt.ip_address, ip_address) >= max_failures * IP_FAILURE_FACTOR
    ):
        raise LoginThrottled()

    with unscoped():
        user = session.execute(
            sa.select(User).options(joinedload(User.dealer)).where(User.username == username)
        ).scalar_one_or_none()
    # Check a hash even for unknown users so response time does not reveal which usernames exist.
    password_ok = check_password_hash(user.password_hash if user else _dummy_hash(), password)
    ok = user is not None and password_ok and user.is_active
    session.add(LoginAttempt(username=username, ip_address=ip_address, succeeded=ok))
    if not ok:
        return None
    user.last_login_at = utcnow()
    session.execute(sa.delete(LoginAttempt).where(LoginAttempt.attempted_at < utcnow() - ATTEMPT_RETENTION))
    return user


def _dummy_hash() -> str:
    config = current_app.config
    if "_DUMMY_PASSWORD_HASH" not in config:
        config["_DUMMY_PASSWORD_HASH"] = hash_password("not-a-real-password")
    return config["_DUMMY_PASSWORD_HASH"]


def load_user(session: Session, user_id: str) -> User | None:
    """The user behind a session cookie, looked up before any dealer scope exists.

    A deactivated account (or one of a deactivated dealer) is logged out on its next request.
    """
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        return None
    with unscoped():
        user = session.execute(
            sa.select(User).options(joinedload(User.dealer)).where(User.id == pk)
        ).scalar_one_or_none()
    return user if user is not None and user.is_active else None
