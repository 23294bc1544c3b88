"""The collector is settled in the processes that serve and import, and only there: each case
runs in a process of its own, since freezing is for the life of a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from punchcard.kit.heap import YOUNG_THRESHOLD

REPORT = "import gc, json; print(json.dumps([gc.get_freeze_count(), gc.get_threshold()[0]]))"


def _run(code: str, tmp_path: Path) -> tuple[int, int]:
    env = {**os.environ, "PUNCHCARD_DATABASE_URL": f"sqlite:///{tmp_path / 'heap.db'}"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    frozen, young = json.loads(done.stdout.strip().splitlines()[-1])
    return frozen, young


def test_a_fresh_process_is_not_settled(tmp_path: Path) -> None:
    frozen, young = _run("import punchcard.app\n" + REPORT, tmp_path)
    assert frozen == 0
    assert young == 700


def test_settle_freezes_the_start_up_heap_and_raises_the_young_threshold(tmp_path: Path) -> None:
    frozen, young = _run("import punchcard.app\nfrom punchcard.kit import heap\nheap.settle()\n"
                         + REPORT, tmp_path)  # fmt: skip
    assert frozen > 100_000  # the imported modules, validators and mappers
    assert young == YOUNG_THRESHOLD


def test_the_servers_app_factory_settles_each_worker(tmp_path: Path) -> None:
    frozen, young = _run("from punchcard.app import app_from_env\napp_from_env()\n" + REPORT,
                         tmp_path)  # fmt: skip
    assert frozen > 100_000
    assert young == YOUNG_THRESHOLD


def test_the_command_line_settles_before_running_a_command(tmp_path: Path) -> None:
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: exec({REPORT!r}))\n"
        "from punchcard.cli import main\n"
        "sys.argv = ['punchcard', '--help']\n"
        "main()\n"
    )
    frozen, young = _run(code, tmp_path)
    # Fewer than the server's: a command loads only what it uses (no FastAPI, no Alembic).
    assert frozen > 50_000
    assert young == YOUNG_THRESHOLD


def test_building_an_app_does_not_settle_a_process_that_builds_many(tmp_path: Path) -> None:
    code = (
        "from punchcard.app import create_app\nfrom punchcard.config import Settings\n"
        "create_app(Settings())\n" + REPORT
    )
    frozen, young = _run(code, tmp_path)
    assert frozen == 0
    assert young == 700
