"""`crmsync user`: people who may use the admin web app (roles admin, reviewer, viewer)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from crmsync.cli import ConfigOption, _fail, _project, _store, app, console
from crmsync.config import DEFAULT_PROJECT_FILE

user_app = typer.Typer(help="Admin web app users: add, change password or role, list.", no_args_is_help=True)
app.add_typer(user_app, name="user")

PASSWORD_ENV = "CRMSYNC_PASSWORD"
MIN_PASSWORD = 10
RoleOption = Annotated[str, typer.Option("--role", help="admin (everything), reviewer (the queue) or viewer "
                                                         "(read-only).")]


def _password(name: str) -> str:
    """From $CRMSYNC_PASSWORD (scripts) or asked twice without echo; never from the command line."""
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        password = typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise _fail(f"the password for {name} is too short: use at least {MIN_PASSWORD} characters")
    return password


def _name(name: str) -> str:
    from sync.review import ReviewError, user_actor

    try:
        return user_actor(name).removeprefix("user:")
    except ReviewError as exc:
        raise _fail(str(exc).replace("reviewer name", "user name")) from None


def _role(role: str) -> str:
    from sync.store.users import ROLES

    if role not in ROLES:
        raise _fail(f"--role {role!r}: use one of {', '.join(ROLES)}")
    return role


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name (letters, digits, . _ @ + -).")],
    role: RoleOption = "reviewer",
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
) -> None:
    """Add a user; the password is asked for (or read from $CRMSYNC_PASSWORD) and stored as an argon2 hash."""
    from datetime import UTC, datetime

    from crmsync.web.auth import hash_password
    from sync.store.users import UserExists, add_user

    name, role = _name(name), _role(role)
    digest = hash_password(_password(name))
    store = _store(_project(config))
    try:
        with store.session() as session:
            add_user(session, name, role, digest, now=datetime.now(UTC))
    except UserExists as exc:
        raise _fail(str(exc)) from None
    finally:
        store.dispose()
    console.print(f"user {name} added as {role}", highlight=False)


@user_app.command("passwd")
def user_passwd(
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str | None, typer.Option("--role", help="Also change the role.")] = None,
    config: ConfigOption = Path(DEFAULT_PROJECT_FILE),
) -> None:
    """Set a new password (and optionally role); the user's sessions end."""
    from crmsync.web.auth import hash_password
    from sync.store import NotFoundError
    from sync.store.users import set_password

    name = _name(name)
    role = _role(role) if role is not None else None
    digest = hash_password(_password(name))
    store = _store(_project(config))
    try:
        with store.session() as session:
            set_password(session, name, digest, role=role)
    except NotFoundError as exc:
        raise _fail(str(exc)) from None
    finally:
        store.dispose()
    console.print(f"password of {name} changed" + (f", role {role}" if role else ""), highlight=False)


@user_app.command("list")
def user_list(config: ConfigOption = Path(DEFAULT_PROJECT_FILE)) -> None:
    """List users and their roles."""
    from rich.table import Table

    from sync.store.users import list_users

    store = _store(_project(config))
    try:
        with store.session() as session:
            users = list_users(session)
    finally:
        store.dispose()
    table = Table("name", "role", "created", "disabled", title=f"{len(users)} user(s)", title_justify="left")
    for u in users:
        table.add_row(u.name, u.role, f"{u.created_at:%Y-%m-%d}", "yes" if u.disabled else "")
    console.print(table)
