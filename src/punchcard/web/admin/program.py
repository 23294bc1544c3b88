"""The programs list (the console's home) and a program's settings page."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from punchcard.db import session_scope
from punchcard.programs import service as programs
from punchcard.programs.domain import POINTS_NAME_LOCALES, ExpiryPolicy, ProgramSettings
from punchcard.programs.schemas import ProgramPatch
from punchcard.programs.service import InvalidSettingsError
from punchcard.web import i18n
from punchcard.web.admin.forms import Fields
from punchcard.web.admin.guard import Admin, Program
from punchcard.web.admin.views import redirect, view
from punchcard.web.deps import Csrf, Db, Now, Session

router = APIRouter()

INTEGERS = ("expiry_value", "pending_days", "points_payment_rate", "points_payment_max_percent")
DECIMALS = ("point_value", "expected_breakage")
TEXTS = ("name", "points_name", "currency", "expiry_policy")


@router.get("/")
def home(request: Request, session: Session, admin: Admin, db: Db) -> Response:
    with db.reader() as read:
        found = programs.list_programs(read)
    return view(request, session, "programs.html", i18n.gettext("Programs"), programs=found)


def _form_of(program: ProgramSettings) -> dict[str, str]:
    """The settings as the form shows them (strings; empty for unset)."""
    values = {k: "" if v is None else str(v) for k, v in program.__dict__.items()}
    values["expiry_policy"] = program.expiry_policy.value
    values["auto_enrol"] = "on" if program.auto_enrol else ""
    for locale in POINTS_NAME_LOCALES:
        values[f"points_name_{locale}"] = program.points_names.get(locale, "")
    return values


def _settings_page(
    request: Request,
    session: Any,
    program: ProgramSettings,
    form: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    return view(
        request,
        session,
        "settings.html",
        i18n.gettext("Settings of %(name)s", name=program.name),
        status_code=status,
        program=program,
        form=form,
        errors=errors,
        policies=[p.value for p in ExpiryPolicy],
        locales=POINTS_NAME_LOCALES,
        language_names=i18n.LANGUAGE_NAMES,
    )


@router.get("/programs/{program_id}/settings")
def settings_page(request: Request, session: Session, program: Program) -> Response:
    return _settings_page(request, session, program, _form_of(program), {})


def parse_settings(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values as a ProgramPatch's changes, and the error of each bad field."""
    raw: dict[str, Any] = {k: form.get(k, "").strip() for k in TEXTS}
    errors: dict[str, str] = {}
    for name in INTEGERS:
        text = form.get(name, "").strip()
        try:
            raw[name] = int(text) if text else None
        except ValueError:
            errors[name] = i18n.gettext("Enter a whole number.")
    for name in DECIMALS:
        text = form.get(name, "").strip()
        try:
            raw[name] = Decimal(text) if text else None
        except InvalidOperation:
            errors[name] = i18n.gettext("Enter a number such as 0.01.")
    raw["auto_enrol"] = form.get("auto_enrol") == "on"
    raw["points_names"] = {
        locale: form[f"points_name_{locale}"].strip()
        for locale in POINTS_NAME_LOCALES
        if form.get(f"points_name_{locale}", "").strip()
    }
    if raw["expiry_value"] is None and "expiry_value" not in errors:
        errors["expiry_value"] = i18n.gettext("Enter a whole number.")
    if raw["pending_days"] is None and "pending_days" not in errors:
        errors["pending_days"] = i18n.gettext("Enter a whole number.")
    if raw["points_payment_max_percent"] is None and "points_payment_max_percent" not in errors:
        raw["points_payment_max_percent"] = 100
    try:
        patch = ProgramPatch.model_validate({k: v for k, v in raw.items() if k not in errors})
    except ValidationError as exc:
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "name"
            errors.setdefault(field, str(error["msg"]).removeprefix("Value error, "))
        return {}, errors
    changes = patch.model_dump(exclude_unset=True)
    return changes, errors


@router.post("/programs/{program_id}/settings", dependencies=[Csrf])
def save_settings(
    request: Request, session: Session, program: Program, db: Db, now: Now, form: Fields
) -> Response:
    changes, errors = parse_settings(form)
    if not errors:
        try:
            with session_scope(db.writer) as write:
                programs.update_program(write, program.id, changes=changes, now=now)
        except InvalidSettingsError as exc:
            errors[str(exc.details.get("field", "name"))] = exc.message
    if errors:
        return _settings_page(request, session, program, form, errors, 400)
    db.caches.forget(("program", program.id))
    return redirect(f"/admin/programs/{program.id}/settings", "saved")
