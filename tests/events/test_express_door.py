"""The express door (`events.door`) answers `POST /v1/events` before FastAPI's routing only
when the express lane takes the event, with the bytes the route would give; every other
request reaches the route exactly as it came."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from punchcard.db import Database
from punchcard.errors import ConflictError
from punchcard.events import door, endpoints
from punchcard.programs.domain import Scope
from tests.conftest import Api
from tests.events.test_events_api import event, line, order_data, post_event, uid

Message = dict[str, Any]
T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run in a thread of its own: other tests (the browser's) may leave an event loop
    running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each request the door tried on the lane: whether the door answered it."""
    calls: list[bool] = []
    real = endpoints.express_answer

    async def spy(*args: Any, **kwargs: Any) -> Any:
        answer = await real(*args, **kwargs)
        calls.append(answer is not None)
        return answer

    monkeypatch.setattr(door, "express_answer", spy)
    return calls


def _order(customer: str, **envelope: Any) -> dict[str, Any]:
    return event("order.placed", order_data(line("cd", 2, "7.50")), customer=customer, **envelope)


def _events_with(db: Database, source_id: str) -> int:
    with db.reader() as session:
        return int(
            session.execute(
                text("SELECT count(*) FROM events WHERE source_id = :s"), {"s": source_id}
            ).scalar_one()
        )


def _warm(api: Api) -> None:
    """The door knows only API keys this process has already checked: one call checks it."""
    assert post_event(api, _order(uid("warm"))).status_code == 200


def test_the_door_answers_as_the_route_does(
    api: Api, db: Database, backend: str, answered: list[bool]
) -> None:
    _warm(api)
    answered.clear()
    customer = uid("door")
    first = _order(customer)
    through_door = post_event(api, first)
    assert through_door.status_code == 200
    # on PostgreSQL the door answered; on SQLite there is no lane, the door stood aside
    assert answered == ([True] if backend == "postgresql" else [])

    # The same kind of event past the door (a query string sends it to the route)
    second = _order(customer)
    via_route = api.client.post(
        "/v1/events",
        json=second,
        params={"dry_run": "false"},
        headers=api.headers(Scope.STOREFRONT),
    )
    assert via_route.status_code == 200
    assert len(answered) == (1 if backend == "postgresql" else 0)  # the door did not try it
    assert through_door.headers["content-type"] == via_route.headers["content-type"]
    assert int(through_door.headers["content-length"]) == len(through_door.content)
    one, two = through_door.json(), via_route.json()
    assert one.keys() == two.keys()
    assert one["points"] == two["points"]
    assert one["member_id"] == two["member_id"]

    # A replay of the door's event: the route's stored result, byte for byte the door's answer
    again = post_event(api, first)
    assert again.status_code == 200
    assert again.content == through_door.content
    assert _events_with(db, first["id"]) == 1


CASES = [
    ("idempotency_key", 200, None),
    ("unknown_key", 401, "unauthenticated"),
    ("revoked_key", 401, "unauthenticated"),
    ("read_only_key", 403, "insufficient_scope"),
    ("basic_scheme", 401, "unauthenticated"),
    ("malformed_json", 400, "malformed_json"),
    ("deeply_nested_json", 400, "malformed_json"),
    ("invalid_body", 422, "missing_field"),
    ("dry_run", 200, None),
    ("json_with_charset", 200, None),
    ("text_plain", 422, None),
]


def _request(api: Api, case: str, body: dict[str, Any]) -> dict[str, Any]:
    """The arguments of `client.post` for one case of a request the door must leave alone."""
    headers = api.headers(Scope.STOREFRONT, **{"Content-Type": "application/json"})
    content = json.dumps(body)
    params: dict[str, str] = {}
    if case == "idempotency_key":
        headers["Idempotency-Key"] = uid("key")
    elif case == "unknown_key":
        headers["Authorization"] = "Bearer pc_not_a_key"
    elif case == "revoked_key":
        headers["Authorization"] = f"Bearer {_revoked_key(api)}"
    elif case == "read_only_key":
        headers = api.headers(Scope.ANALYST, **{"Content-Type": "application/json"})
    elif case == "basic_scheme":  # a writer's key, known to this process, in another scheme
        headers["Authorization"] = f"Basic {api.keys[Scope.STOREFRONT]}"
    elif case == "malformed_json":
        content = content[:-1]
    elif case == "deeply_nested_json":  # json.loads raises RecursionError, not ValueError
        content = content[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    elif case == "invalid_body":
        content = json.dumps({k: v for k, v in body.items() if k != "member"})
    elif case == "dry_run":
        params = {"dry_run": "true"}
    elif case == "json_with_charset":
        headers["Content-Type"] = "application/json; charset=utf-8"
    elif case == "text_plain":
        headers["Content-Type"] = "text/plain"
    return {"content": content, "headers": headers, "params": params}


def _revoked_key(api: Api) -> str:
    """A writer's key this process has seen and cached, then revoked."""
    made = api.client.post(
        "/v1/api-keys", json={"scopes": ["storefront"]}, headers=api.headers()
    ).json()
    headers = {"Authorization": f"Bearer {made['api_key']}"}
    assert api.client.post("/v1/events", json=_order(uid("r")), headers=headers).status_code == 200
    gone = api.client.delete(f"/v1/api-keys/{made['id']}", headers=api.headers())
    assert gone.status_code == 204
    return str(made["api_key"])


@pytest.mark.parametrize(("case", "status", "code"), CASES, ids=[c[0] for c in CASES])
def test_the_door_leaves_everything_else_to_the_route(
    api: Api, db: Database, answered: list[bool], case: str, status: int, code: str | None
) -> None:
    """Each request twice: the first time puts its API key in the process's cache (as the
    route checks it), so the second meets every check of the door itself."""
    _warm(api)
    body = _order(uid("other"))
    request = _request(api, case, body)
    answered.clear()
    responses = [api.client.post("/v1/events", **request) for _ in range(2)]
    for response in responses:
        assert response.status_code == status, response.text
        if code is not None:
            assert response.json()["error"]["code"] == code
    assert answered == []  # the door never tried the lane for any of them
    written = 1 if case in ("idempotency_key", "json_with_charset") else 0
    assert _events_with(db, body["id"]) == written
    if case in ("idempotency_key", "json_with_charset"):  # the replay: the first answer again
        assert responses[1].content == responses[0].content


@pytest.mark.parametrize("case", ["two_authorizations", "root_path"])
def test_the_door_leaves_raw_requests_it_cannot_judge_to_the_route(
    api: Api, db: Database, answered: list[bool], case: str
) -> None:
    """Requests a test client cannot send: two Authorization headers (the route reads the
    first), and an application mounted under a root path (the route sees a path below it)."""
    _warm(api)
    body = _order(uid("raw"))
    key = api.keys[Scope.STOREFRONT]
    authorization = [(b"authorization", f"Bearer {key}".encode())]
    path, root_path = "/v1/events", ""
    if case == "two_authorizations":
        authorization.insert(0, (b"authorization", b"Bearer pc_not_a_key"))
    else:
        root_path = "/v1"
    answered.clear()
    got, answer = _run(_raw_post(api, path, root_path, authorization, json.dumps(body).encode()))
    expected = (401, "unauthenticated") if case == "two_authorizations" else (404, "not_found")
    assert (got, answer["error"]["code"]) == expected
    assert answered == []
    assert _events_with(db, body["id"]) == 0


async def _raw_post(
    api: Api, path: str, root_path: str, authorization: list[tuple[bytes, bytes]], body: bytes
) -> tuple[int, dict[str, Any]]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": root_path,
        "query_string": b"",
        "headers": [*authorization, (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    sent: list[Message] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await api.client.app(scope, receive, send)  # type: ignore[arg-type]
    status = int(sent[0]["status"])
    return status, json.loads(b"".join(m.get("body", b"") for m in sent[1:]))


@pytest.mark.parametrize("failure", ["lost_race", "unexpected"])
def test_a_lane_that_fails_in_the_door_is_not_tried_again_by_the_route(
    api: Api, db: Database, backend: str, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """The route answers by the careful path, without a second try of the lane (which, with
    a pool exhausted or a database down, would double the wait)."""
    _warm(api)
    tried: list[str] = []

    async def broken(*args: Any, **kwargs: Any) -> Any:
        tried.append("door")
        if failure == "lost_race":
            raise ConflictError("lost a race", code="concurrent_write")
        raise RuntimeError("the lane broke")

    async def route_lane(*args: Any, **kwargs: Any) -> Any:
        tried.append("route")
        return None

    monkeypatch.setattr(door, "express_answer", broken)
    monkeypatch.setattr(endpoints, "express_answer", route_lane)
    body = _order(uid("broken"))
    response = post_event(api, body)
    # SQLite has no lane: the door stands aside, the route asks for its lane (absent there,
    # None here) and the careful path answers
    assert tried == (["door"] if backend == "postgresql" else ["route"])
    assert response.status_code == 200
    assert response.json()["points"]["awarded"] == 15
    assert _events_with(db, body["id"]) == 1
    assert post_event(api, body).content == response.content  # and a replay answers the same


# The ASGI plumbing on its own: the body read in pieces, and handed on unchanged.


def _receiver(messages: list[Message]) -> Any:
    queue = list(messages)

    async def receive() -> Message:
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    return receive


def test_a_body_in_pieces_is_read_whole_and_handed_on_as_it_came() -> None:
    pieces = [
        {"type": "http.request", "body": b'{"a":', "more_body": True},
        {"type": "http.request", "body": b"", "more_body": True},
        {"type": "http.request", "body": b" 1}", "more_body": False},
    ]

    async def run() -> tuple[bytes | None, list[Any]]:
        receive = _receiver(pieces)
        messages, body = await door._read(receive)
        replay = door._replay(messages, receive)
        return body, [await replay() for _ in range(4)]

    body, replayed = _run(run())
    assert body == b'{"a": 1}'
    assert replayed == [*pieces, {"type": "http.disconnect"}]


@pytest.mark.parametrize(
    "messages",
    [
        [{"type": "http.disconnect"}],
        [{"type": "http.request", "body": b"x" * (door.MAX_BODY + 1), "more_body": True}],
    ],
    ids=["disconnect", "too_large"],
)
def test_the_door_declines_a_body_it_cannot_take(messages: list[Message]) -> None:
    got, body = _run(door._read(_receiver(messages)))
    assert body is None
    assert got == messages


def test_the_door_takes_only_a_plain_post_of_one_event() -> None:
    with_lane = SimpleNamespace(state=SimpleNamespace(async_lane=object()))
    base = {
        "type": "http",
        "method": "POST",
        "path": "/v1/events",
        "query_string": b"",
        "app": with_lane,
    }
    assert door._candidate(base)
    assert not door._candidate({**base, "app": SimpleNamespace(state=SimpleNamespace())})
    assert not door._candidate({**base, "method": "GET"})
    assert not door._candidate({**base, "path": "/v1/events/batch"})
    assert not door._candidate({**base, "query_string": b"dry_run=true"})
    assert not door._candidate({**base, "type": "websocket"})
    assert not door._candidate({**base, "root_path": "/api"})
    headers = [(b"authorization", b"Bearer k"), (b"content-type", b"application/json")]
    assert door._headers({"headers": headers}) == dict(headers)
    assert door._headers({"headers": [*headers, (b"idempotency-key", b"k")]}) is None
    assert door._headers({"headers": [*headers, (b"content-type", b"text/plain")]}) is None
