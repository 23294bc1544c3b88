"""The planner's pure modules run compiled (mypyc, `punchcard.compiled`) once `make install`
has built them, and from their source whenever any of their sources no longer matches that
build, or when `PUNCHCARD_PURE_PYTHON=1` asks for it."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from punchcard import compiled

PROBE = (
    "import json, punchcard.events.earnplan, punchcard.kit.hashing, punchcard.ledger.domain,"
    " punchcard.rules.domain, sys; print(json.dumps({m: sys.modules[m].__file__ for m in"
    " ('punchcard.events.earnplan', 'punchcard.kit.hashing', 'punchcard.ledger.domain',"
    " 'punchcard.rules.domain')}))"
)


def test_make_install_built_the_planner_and_it_runs_compiled() -> None:
    """Where there is a C compiler (as on the machines CI runs on) the build is there, fresh,
    and what this very test session imported."""
    if shutil.which(os.environ.get("CC", "cc")) is None:
        assert not compiled.build_is_fresh()
        return
    assert compiled.build_is_fresh(), "run `make install` (it builds the compiled modules)"
    for name in compiled.MODULES:
        module = importlib.import_module(name)
        assert compiled.is_compiled(module), name


def _copy_of_the_package(tmp_path: Path) -> Path:
    """The package and its build as they are here, in a folder of their own."""
    src = tmp_path / "src"
    shutil.copytree(compiled.SRC / "punchcard", src / "punchcard")
    for group in compiled.SRC.glob("*__mypyc*"):  # the build's shared library
        shutil.copy2(group, src / group.name)
    return src


def _loaded_from(src: Path, **env: str) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**os.environ, "PYTHONPATH": str(src), **env},
        cwd=src,
        capture_output=True,
        text=True,
        check=True,
    )
    files: dict[str, str] = json.loads(done.stdout)
    for name, file in files.items():
        assert Path(file).is_relative_to(src), (name, file)  # the copy, not this checkout
    return files


@pytest.fixture
def built(tmp_path: Path) -> Path:
    if not compiled.build_is_fresh():
        pytest.fail("no fresh build to copy: run `make install`")
    return _copy_of_the_package(tmp_path)


def test_a_fresh_build_is_what_runs(built: Path) -> None:
    assert all(f.endswith(".so") for f in _loaded_from(built).values())


def test_one_edited_source_sends_every_compiled_module_back_to_its_source(built: Path) -> None:
    """Compiled modules call each other directly: with one source edited, the others' builds
    would still run its old code, so none of them is used."""
    domain = built / "punchcard" / "ledger" / "domain.py"
    domain.write_text(domain.read_text() + "\nEDITED = True\n")
    files = _loaded_from(built)
    assert all(f.endswith(".py") for f in files.values()), files
    probe = "import punchcard.ledger.domain as d; print(d.EDITED)"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "PYTHONPATH": str(built)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "True"  # the edit runs


def test_the_source_runs_when_asked_for(built: Path) -> None:
    files = _loaded_from(built, PUNCHCARD_PURE_PYTHON="1")
    assert all(f.endswith(".py") for f in files.values()), files


def test_a_build_without_its_manifest_is_not_trusted(built: Path) -> None:
    (built / "punchcard" / "compiled.json").unlink()
    assert all(f.endswith(".py") for f in _loaded_from(built).values())


def test_a_build_for_another_interpreter_is_not_trusted(built: Path) -> None:
    manifest = built / "punchcard" / "compiled.json"
    stamp = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**stamp, "extension": ".cpython-399-x86_64-linux-gnu.so"}))
    assert all(f.endswith(".py") for f in _loaded_from(built).values())
