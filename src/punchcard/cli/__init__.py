"""The `punchcard` command. With no sub-command it serves the API.

`base` holds the application, its command groups and the helpers every command shares; each
other module registers the commands of one area on them when imported here."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from punchcard.cli import analytics, operations, programs, server
from punchcard.cli.base import app
from punchcard.kit import heap

__all__ = ["analytics", "app", "main", "operations", "programs", "server"]


def main() -> None:
    heap.settle()  # the commands' modules are imported by now; the work has not started
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except ValidationError as exc:  # a PUNCHCARD_* variable with a bad value
        first = exc.errors()[0]
        name = "PUNCHCARD_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        print(f"error: {name}: {first['msg']}", file=sys.stderr)
        sys.exit(2)
