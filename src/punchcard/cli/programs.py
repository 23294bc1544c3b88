"""Programs, their API keys and the admin console's users."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from punchcard.cli.base import (
    DbOption,
    ProgramOption,
    admin_app,
    database,
    fail,
    key_app,
    pick_program,
    program_app,
)
from punchcard.db import session_scope
from punchcard.kit.clock import utcnow
from punchcard.programs import service as programs
from punchcard.programs.domain import ExpiryPolicy, Scope


@program_app.command("create")
def program_create(
    name: Annotated[str, typer.Option(help="The merchant's program name.")],
    db: DbOption = None,
    points_name: Annotated[str, typer.Option(help="What points are called.")] = "points",
    currency: Annotated[str, typer.Option(help="ISO 4217 code.")] = "USD",
    expiry: Annotated[ExpiryPolicy, typer.Option(help="Expiry policy.")] = ExpiryPolicy.NEVER,
    expiry_value: Annotated[int, typer.Option(help="Days, or months for end_of_*.")] = 0,
    pending_days: Annotated[int, typer.Option(help="Return window in days.")] = 0,
    auto_enrol: Annotated[bool, typer.Option(help="Enrol unknown members on events.")] = True,
) -> None:
    """Create a program and its first admin API key; prints JSON (the key is shown once)."""
    with database(db) as handle, session_scope(handle.writer) as session:
        now = utcnow()
        program = programs.create_program(
            session,
            name=name,
            now=now,
            points_name=points_name,
            currency=currency,
            expiry_policy=expiry,
            expiry_value=expiry_value,
            pending_days=pending_days,
            auto_enrol=auto_enrol,
        )
        key = programs.create_api_key(
            session, program_id=program.id, scopes=(Scope.ADMIN,), now=now, name="admin"
        )
    print(json.dumps({"program_id": program.id, "api_key": key.api_key}))


@program_app.command("list")
def program_list(db: DbOption = None) -> None:
    """List programs as JSON lines."""
    with database(db) as handle, handle.reader() as session:
        for p in programs.list_programs(session):
            print(json.dumps({**p.__dict__, "expiry_policy": p.expiry_policy.value}))


@key_app.command("create")
def key_create(
    scopes: Annotated[str, typer.Option(help="Comma-separated: admin,storefront,pos,analyst")],
    db: DbOption = None,
    program: ProgramOption = None,
    name: Annotated[str, typer.Option(help="A label to tell keys apart.")] = "default",
) -> None:
    """Create an API key; prints JSON with the key (shown once)."""
    try:
        wanted = tuple(Scope(s.strip()) for s in scopes.split(",") if s.strip())
    except ValueError:
        fail(f"unknown scope in {scopes!r}; use admin, storefront, pos or analyst", 2)
    with database(db) as handle:
        program_id = pick_program(handle, program)
        with session_scope(handle.writer) as session:
            key = programs.create_api_key(
                session, program_id=program_id, scopes=wanted, now=utcnow(), name=name
            )
    print(json.dumps({"program_id": program_id, "key_id": key.id, "api_key": key.api_key}))


@key_app.command("list")
def key_list(db: DbOption = None, program: ProgramOption = None) -> None:
    """List a program's keys (never the keys themselves) as JSON lines."""
    with database(db) as handle:
        program_id = pick_program(handle, program)
        with handle.reader() as session:
            rows = programs.list_api_keys(session, program_id)
    for r in rows:
        print(
            json.dumps(
                {
                    "key_id": r.id,
                    "name": r.name,
                    "prefix": r.prefix,
                    "scopes": r.scopes.split(","),
                    "revoked": r.revoked_at is not None,
                }
            )
        )


@key_app.command("revoke")
def key_revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (see `key list`).")],
    db: DbOption = None,
    program: ProgramOption = None,
) -> None:
    """Revoke a key at once (the CLI may revoke the last admin key; the API may not)."""
    with database(db) as handle:
        program_id = pick_program(handle, program)
        with session_scope(handle.writer) as session:
            programs.revoke_api_key(session, program_id=program_id, key_id=key_id, now=utcnow())
    print(json.dumps({"key_id": key_id, "revoked": True}))


def _new_password(from_stdin: bool) -> str:
    """The first line of stdin (for scripts), or asked twice on the terminal, hidden."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    try:
        value: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    except (typer.Abort, EOFError):
        fail("no password given: type it when asked, or pipe it with --password-stdin")
    return value


@admin_app.command("create-user")
def admin_create_user(
    email: Annotated[str, typer.Option(help="The admin's e-mail, used to sign in.")],
    db: DbOption = None,
    name: Annotated[str | None, typer.Option(help="The admin's name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin's first line.")
    ] = False,
) -> None:
    """Create a user of the admin console (argon2id-hashed password, at least 10 characters);
    prints JSON with the new user's id."""
    from punchcard.web.admin import users

    password = _new_password(password_stdin)
    if len(password) < users.MIN_PASSWORD:
        fail(f"the password must be at least {users.MIN_PASSWORD} characters")
    with database(db) as handle, session_scope(handle.writer) as session:
        admin_id = users.create_user(
            session, email=email, password=password, now=utcnow(), name=name
        )
    print(json.dumps({"admin_user_id": admin_id, "email": users.normalise_email(email)}))
