"""A code is shown once and stored nowhere in clear, yet a retry gets it back byte for byte."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import LargeBinary, String, Text, select

from punchcard.app import create_app
from punchcard.config import Settings
from punchcard.db import Database, session_scope
from punchcard.kit import codes
from punchcard.kit.clock import FixedClock
from punchcard.kit.sealing import InvalidToken, Sealer, load_or_create_key
from punchcard.models import Base
from punchcard.programs import service as programs
from punchcard.programs.domain import ProgramSettings
from punchcard.redemptions.sealing import sealer_for
from tests.conftest import Api
from tests.redemptions.helpers import available, claimed, error, make_reward, member_with, post


def test_seal_and_unseal_round_trip_and_refuse_tampering() -> None:
    sealer = Sealer(b"x" * 32)
    token = sealer.seal(b'{"code":"ABCD"}')
    assert b"ABCD" not in token
    assert sealer.unseal(token) == b'{"code":"ABCD"}'
    with pytest.raises(InvalidToken):
        Sealer(b"y" * 32).unseal(token)
    forged = token[:-2] + (b"A" if token[-2:-1] != b"A" else b"B") + token[-1:]
    with pytest.raises(InvalidToken):
        sealer.unseal(forged)
    with pytest.raises(ValueError, match="16 bytes"):
        Sealer(b"short")


def test_the_key_file_is_created_once_private_and_shared(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "punchcard.secret"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_or_create_key(path), range(32)))
    assert len(keys) == 1
    assert len(next(iter(keys))) >= 40
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["punchcard.secret"]  # no leftovers
    assert load_or_create_key(path) == next(iter(keys))


def test_without_a_secret_key_the_file_is_used_and_a_warning_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUNCHCARD_SECRET_KEY")
    path = tmp_path / f"{uuid.uuid4().hex}.secret"
    settings = Settings(secret_key_file=path)
    assert settings.secret_key is None
    sealed = sealer_for(settings).seal(b"hello")
    assert path.exists()
    assert "PUNCHCARD_SECRET_KEY is not set" in caplog.text
    assert sealer_for(Settings(secret_key_file=path)).unseal(sealed) == b"hello"
    assert "test-secret" not in repr(Settings())  # SecretStr never prints


def _text_values(db: Database) -> Iterator[tuple[str, str | bytes]]:
    with db.reader() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | LargeBinary)]
            for column in columns:
                for value in session.execute(select(column)).scalars():
                    if value is not None:
                        yield f"{table.name}.{column.name}", value


def test_no_table_holds_the_code_and_a_replay_returns_it_byte_for_byte(
    fresh_db: Database, clock: FixedClock
) -> None:
    app = create_app(Settings(database_url=fresh_db.url), db=fresh_db, clock=clock)
    with TestClient(app) as client:
        with session_scope(fresh_db.writer) as session:
            program: ProgramSettings = programs.create_program(session, name="p", now=clock())
        api = Api(client, fresh_db, program, clock())
        reward = make_reward(fresh_db, program)
        member = member_with(api, 500)
        path = f"/v1/members/{member}/redemptions"

        first = post(api, path, {"reward_id": reward}, key="redeem-1")
        replay = post(api, path, {"reward_id": reward}, key="redeem-1")

    assert first.status_code == replay.status_code == 201
    assert replay.content == first.content
    assert replay.headers["Idempotent-Replayed"] == "true"
    plain = first.json()["code"]
    canonical = codes.normalise(plain)
    forms = {plain, canonical, plain.lower(), canonical.lower()}
    scanned = set()
    for where, value in _text_values(fresh_db):
        scanned.add(where)
        text = value.decode(errors="replace") if isinstance(value, bytes) else value
        assert not any(form in text for form in forms), f"the code is in {where}"
    assert {"idempotency_keys.response_body", "redemptions.code_hash"} <= scanned
    assert {"ledger_transactions.reason", "ledger_transactions.meta"} <= scanned


def test_a_stored_response_sealed_under_another_key_is_a_409(
    db: Database, api: Api, clock: FixedClock
) -> None:
    reward = make_reward(db, api.program)
    member = member_with(api, 500)
    path = f"/v1/members/{member}/redemptions"
    first = post(api, path, {"reward_id": reward}, key="rotate-1")
    assert first.status_code == 201
    other = create_app(
        Settings(database_url=db.url, secret_key="another-secret-key-0123456789"),
        db=db,
        clock=clock,
    )
    with TestClient(other) as client:
        headers = {**api.headers(), "Idempotency-Key": "rotate-1"}
        again = client.post(path, json={"reward_id": reward}, headers=headers)
    assert (again.status_code, error(again)) == (409, "idempotent_response_unreadable")
    same = post(api, path, {"reward_id": reward}, key="rotate-1")
    assert same.content == first.content  # under its own key the response is readable


def test_a_secret_key_too_short_is_a_503_that_says_so_and_spends_nothing(
    db: Database, api: Api, clock: FixedClock
) -> None:
    """`PUNCHCARD_SECRET_KEY=review` started a server whose every redemption was a 500. The
    settings now refuse it at start; should a short key reach the app anyway (settings built
    without validation), a redemption is a 503 that says why, not a 500."""
    with pytest.raises(ValidationError, match="at least 16"):
        Settings(database_url=db.url, secret_key="review")
    reward = make_reward(db, api.program)
    member = member_with(api, 500)
    unchecked = Settings().model_copy(
        update={"database_url": db.url, "secret_key": SecretStr("review")}
    )
    short = create_app(unchecked, db=db, clock=clock)
    with TestClient(short) as client:
        response = client.post(
            f"/v1/members/{member}/redemptions", json={"reward_id": reward}, headers=api.headers()
        )
    assert (response.status_code, error(response)) == (503, "secret_key_unusable")
    assert "16 characters" in response.json()["error"]["message"]
    assert "review" not in response.text
    assert available(api, member) == 500
    assert claimed(db, reward) == 0
