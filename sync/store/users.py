"""People who use the admin web app, and their login sessions (migration 0004).

Passwords arrive here already hashed (argon2, by crmsync.web.auth); session tokens arrive as
their SHA-256 digests, so a copy of the database lets nobody log in as anyone.
Every function takes a Session and never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, delete, insert, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from sync.store.engine import NotFoundError, StoreError
from sync.store.models import Base, _json
from sync.store.records import rowcount

__all__ = [
    "ROLES",
    "AdminSession",
    "AdminUser",
    "Role",
    "SessionRow",
    "UserExists",
    "UserRow",
    "add_user",
    "create_session",
    "delete_session",
    "delete_sessions_of",
    "get_user",
    "list_users",
    "load_session",
    "remember_decision",
    "set_password",
]

Role = Literal["admin", "reviewer", "viewer"]
ROLES: tuple[str, ...] = get_args(Role)


class AdminUser(Base):
    __tablename__ = "admin_users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'reviewer', 'viewer')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(default=False)


class AdminSession(Base):
    __tablename__ = "admin_sessions"
    __table_args__ = (Index("ix_admin_sessions_user_id", "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_users.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_decision: Mapped[dict[str, Any] | None] = mapped_column(_json(nullable=True))


class UserExists(StoreError):
    """A user of that name is already there."""


@dataclass(frozen=True)
class UserRow:
    """An admin-app user (never with the password hash: `get_user(..., with_hash=True)` gives it separately)."""

    id: int
    name: str
    role: str
    created_at: datetime
    disabled: bool


@dataclass(frozen=True)
class SessionRow:
    """A live login session and its user."""

    user: UserRow
    csrf_token: str
    expires_at: datetime
    last_decision: dict[str, Any] | None


def _user(u: AdminUser) -> UserRow:
    return UserRow(u.id, u.name, u.role, u.created_at, u.disabled)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")


def add_user(session: Session, name: str, role: str, password_hash: str, *, now: datetime) -> UserRow:
    """Create a user; UserExists if the name is taken."""
    _check_role(role)
    if session.scalar(select(AdminUser.id).where(AdminUser.name == name)) is not None:
        raise UserExists(f"user {name!r} already exists; change the password with `crmsync user passwd {name}`")
    session.execute(insert(AdminUser).values(name=name, role=role, password_hash=password_hash, created_at=now,
                                             disabled=False))
    user = session.scalars(select(AdminUser).where(AdminUser.name == name)).one()
    return _user(user)


def get_user(session: Session, name: str) -> tuple[UserRow, str] | None:
    """A user and the password hash to check against, or None."""
    user = session.scalars(select(AdminUser).where(AdminUser.name == name)
                           .execution_options(populate_existing=True)).one_or_none()
    return (_user(user), user.password_hash) if user is not None else None


def list_users(session: Session) -> list[UserRow]:
    """Every user, by name."""
    return [_user(u) for u in session.scalars(select(AdminUser).order_by(AdminUser.name))]


def set_password(session: Session, name: str, password_hash: str, *, role: str | None = None) -> None:
    """Replace a user's password hash (and role), ending their sessions."""
    values: dict[str, Any] = {"password_hash": password_hash}
    if role is not None:
        _check_role(role)
        values["role"] = role
    result = session.execute(update(AdminUser).where(AdminUser.name == name).values(**values),
                             execution_options={"synchronize_session": False})
    if rowcount(result) != 1:
        raise NotFoundError(f"no user {name!r}; add one with `crmsync user add {name} --role reviewer`")
    user_id = session.scalar(select(AdminUser.id).where(AdminUser.name == name))
    delete_sessions_of(session, int(user_id or 0))


def create_session(session: Session, user_id: int, token_hash: str, csrf_token: str, *, now: datetime,
                   expires_at: datetime) -> None:
    """Record a new login session (expired ones are swept on the way)."""
    session.execute(delete(AdminSession).where(AdminSession.expires_at < now),
                    execution_options={"synchronize_session": False})
    session.execute(insert(AdminSession).values(token_hash=token_hash, user_id=user_id, csrf_token=csrf_token,
                                                created_at=now, expires_at=expires_at))


def load_session(session: Session, token_hash: str, *, now: datetime) -> SessionRow | None:
    """The live session with this token digest and its (enabled) user, or None."""
    found = session.execute(
        select(AdminSession, AdminUser).join(AdminUser, AdminUser.id == AdminSession.user_id)
        .where(AdminSession.token_hash == token_hash, AdminSession.expires_at > now, AdminUser.disabled.is_(False))
        .execution_options(populate_existing=True)).one_or_none()
    if found is None:
        return None
    s, u = found
    return SessionRow(_user(u), s.csrf_token, s.expires_at, s.last_decision)


def remember_decision(session: Session, token_hash: str, decision: dict[str, Any] | None) -> None:
    """Keep the session's last review decision, for its undo button."""
    session.execute(update(AdminSession).where(AdminSession.token_hash == token_hash)
                    .values(last_decision=decision), execution_options={"synchronize_session": False})


def delete_session(session: Session, token_hash: str) -> None:
    """Log a session out."""
    session.execute(delete(AdminSession).where(AdminSession.token_hash == token_hash),
                    execution_options={"synchronize_session": False})


def delete_sessions_of(session: Session, user_id: int) -> None:
    """Log a user out everywhere."""
    session.execute(delete(AdminSession).where(AdminSession.user_id == user_id),
                    execution_options={"synchronize_session": False})
