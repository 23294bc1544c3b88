"""The earn planner's pure modules, compiled to C with mypyc where a build of them matches
their source, and run as plain Python otherwise.

Every earned event is planned in Python (rules, ledger plan, digest, stored result), and that
planning was about a third of the CPU of batch earn and the import. The same type-annotated
modules compiled by mypyc (which comes with mypy) plan an order about a quarter faster, with
no change to their code (docs/performance.md, item 38). `make install` builds them
(`compiled.build`) next to their sources, with a manifest of the sources' digests.

A compiled module shadows its source, and compiled modules call each other directly, so an
edited source whose build is now stale would silently not run. `use_fresh_build` (called by
the package's `__init__`) therefore loads all of them from source unless every source still
matches the manifest, and `PUNCHCARD_PURE_PYTHON=1` forces the source (to profile the Python,
say). A machine without a C compiler runs the source.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from importlib.abc import MetaPathFinder
from importlib.machinery import EXTENSION_SUFFIXES, ModuleSpec
from importlib.util import spec_from_file_location
from pathlib import Path
from types import ModuleType
from typing import Any

SRC = Path(__file__).resolve().parent.parent  # the folder holding the `punchcard` package
MODULES = (
    "punchcard.events.earnplan",
    "punchcard.kit.hashing",
    "punchcard.ledger.domain",
    "punchcard.rules.domain",
)
MANIFEST = SRC / "punchcard" / "compiled.json"
PURE_ENV = "PUNCHCARD_PURE_PYTHON"


def source_of(module: str) -> Path:
    return SRC.joinpath(*module.split(".")).with_suffix(".py")


def digests() -> dict[str, str]:
    return {m: hashlib.sha256(source_of(m).read_bytes()).hexdigest() for m in MODULES}


def _stamp() -> dict[str, Any]:
    """What a build is of: these very sources (and this module list), for this interpreter's
    extension modules (a virtual environment made again from another Python needs its own)."""
    return {"extension": EXTENSION_SUFFIXES[0], "sources": digests()}


def build_is_fresh() -> bool:
    try:
        built = json.loads(MANIFEST.read_text())
    except (OSError, ValueError):
        return False
    return bool(built == _stamp())


class _Sources(MetaPathFinder):
    """Finds the compiled modules' plain sources, ahead of their extension modules."""

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in MODULES:
            return None
        return spec_from_file_location(fullname, source_of(fullname))


def use_fresh_build() -> None:
    """Load the compiled modules only from a build of their current sources."""
    stale = os.environ.get(PURE_ENV) == "1" or not build_is_fresh()
    if stale and not any(isinstance(f, _Sources) for f in sys.meta_path):
        sys.meta_path.insert(0, _Sources())


def is_compiled(module: ModuleType) -> bool:
    return str(module.__file__).endswith(tuple(EXTENSION_SUFFIXES))


def build() -> str:
    """Compiles `MODULES` in place when their build is stale; a line saying what it did."""
    import shutil  # only here: the package's import stays light
    import subprocess

    if build_is_fresh():
        return "compiled modules: up to date"
    compiler = os.environ.get("CC", "cc")
    if shutil.which(compiler) is None:
        return f"compiled modules: no C compiler ({compiler}); the planner runs as plain Python"
    MANIFEST.unlink(missing_ok=True)
    stamp = _stamp()  # before the build: a source edited meanwhile is then seen as stale
    done = subprocess.run(  # noqa: S603 (this interpreter, our own files)
        [sys.executable, "-m", "mypyc", *(str(source_of(m).relative_to(SRC)) for m in MODULES)],
        cwd=SRC,
        capture_output=True,
        text=True,
        check=False,
    )
    shutil.rmtree(SRC / "build", ignore_errors=True)
    shutil.rmtree(SRC / ".mypy_cache", ignore_errors=True)
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
        return f"compiled modules: mypyc failed ({last[0]}); the planner runs as plain Python"
    MANIFEST.write_text(json.dumps(stamp, indent=2, sort_keys=True) + "\n")
    return f"compiled modules: built {len(MODULES)}"
