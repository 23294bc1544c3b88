"""The e-mails the portal sends, written in the member's language (not the visitor's page
language: a code asked for from a friend's browser still arrives in the member's own)."""

from __future__ import annotations

from punchcard.web.i18n import Translator


def sign_in_email(
    translator: Translator, *, program: str, code: str, minutes: int
) -> tuple[str, str]:
    """Subject and body of the one-time code e-mail."""
    _ = translator.gettext
    subject = _("Your sign-in code for %(program)s", program=program)
    lines = [
        _("Your sign-in code is: %(code)s", code=code),
        "",
        translator.ngettext(
            "It works once, for the next %(num)s minute.",
            "It works once, for the next %(num)s minutes.",
            minutes,
        ),
        _("If you did not ask for it, you can ignore this e-mail: nobody can sign in without it."),
        _("We will never ask you for this code by phone or in a message."),
        "",
        program,
    ]
    return subject, "\n".join(lines)
