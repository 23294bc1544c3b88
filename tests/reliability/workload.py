"""The store's side of the fault tests.

Client threads send events (one at a time or in batches) and spends, and retry every write
with the same body until it gets an answer, as a careful integration would. Spends always carry
an `Idempotency-Key`; events half of the time, the other half relying on their own id as
webhooks do. Now and then a client gives up on a write that was cut off
mid-request, and moves on to a new customer: that write may or may not have happened, which is
exactly what "nothing half-written" has to hold for. Each client keeps a model of its customers
built only from the answers it got, so the database can be checked against what was
acknowledged (see `audit`).
"""

from __future__ import annotations

import random
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest

# Orders earn 1 point per dollar and 2 per mug; reviews 5, shares 3. No caps, budgets or
# first-order bonus: a client must be able to predict what is safe to spend or refund.
ORDERS = ["order.placed"]
RULES: dict[str, Any] = {
    "rules": [
        {"id": "base", "events": ORDERS, "effect": {"type": "per_currency_unit", "points": 1}},
        {
            "id": "mugs",
            "events": ORDERS,
            "effect": {"type": "per_line", "points": 2, "skus": ["MUG"]},
        },
        {"id": "review", "events": ["review.submitted"], "effect": {"type": "fixed", "points": 5}},
        {"id": "share", "events": ["social.shared"], "effect": {"type": "fixed", "points": 3}},
    ]
}
SKUS = (("TSHIRT", "apparel"), ("MUG", "home"), ("BOOK", "books"), ("CAP", "apparel"))
GIVE_UP = 0.3  # chance of giving up on a write whose answer was lost


def _code(response: httpx2.Response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "?"


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass(frozen=True)
class Write:
    """One intended write, sent again with the same key and body until it is answered."""

    customer: str
    path: str
    body: dict[str, Any]
    key: str  # the Idempotency-Key; also the event id, the spend's reference or the batch's name
    keyed: bool = True  # sent with the Idempotency-Key header (events also dedupe by their id)

    @property
    def is_spend(self) -> bool:
        return self.path.endswith("/spend")

    @property
    def event_ids(self) -> list[str]:
        if self.path == "/v1/events":
            return [self.body["id"]]
        if self.path == "/v1/events/batch":
            return [e["id"] for e in self.body["events"]]
        return []


@dataclass(frozen=True)
class Answer:
    write: Write
    status: int | None  # None: given up on after the answer was lost
    body: dict[str, Any] | None = None
    replayed: bool = False

    def event_results(self) -> list[dict[str, Any]]:
        """The results of the events of an acknowledged event write."""
        assert self.body is not None
        if self.write.path == "/v1/events/batch":
            return [item["result"] for item in self.body["items"]]
        return [self.body]


@dataclass
class OrderModel:
    points_left: int  # earned and not reversed yet
    refundable_cents: int
    open: bool = True


@dataclass
class CustomerModel:
    external_id: str
    member_id: int | None = None
    available: int = 0
    lifetime_earned: int = 0
    orders: dict[str, OrderModel] = field(default_factory=dict)
    given_up: Write | None = None  # its last write, if given up on: the database tells its fate


class Shared:
    """What the clients and the test's conductor share: whether the server is up, whether to
    stop, and how many writes were acknowledged and are in flight."""

    def __init__(self) -> None:
        self.server_up = threading.Event()
        self.server_up.set()
        self.stopping = threading.Event()
        self.aborting = threading.Event()  # the test failed: stop retrying at once
        self._changed = threading.Condition()
        self.acknowledged = 0
        self.in_flight = 0
        self.unavailable = 0  # 503 answers

    def answered_unavailable(self) -> None:
        with self._changed:
            self.unavailable += 1
            self._changed.notify_all()

    def request(self, delta: int) -> None:
        with self._changed:
            self.in_flight += delta
            self._changed.notify_all()

    def acknowledge(self) -> None:
        with self._changed:
            self.acknowledged += 1
            self._changed.notify_all()

    def wait_for(
        self,
        what: str,
        timeout: float,
        *,
        acknowledged: int = 0,
        in_flight: int = 0,
        unavailable: int = 0,
    ) -> None:
        """Block until the counters reach these values; they notify on every change."""
        with self._changed:
            reached = self._changed.wait_for(
                lambda: (
                    self.acknowledged >= acknowledged
                    and self.in_flight >= in_flight
                    and self.unavailable >= unavailable
                ),
                timeout,
            )
        if not reached:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


class Client(threading.Thread):
    """One integration of the store: writes one at a time, retries until answered."""

    def __init__(self, index: int, base_url: str, api_key: str, shared: Shared, seed: int) -> None:
        super().__init__(name=f"client-{index}", daemon=True)
        self.index = index
        self.base_url = base_url
        self.api_key = api_key
        self.shared = shared
        self.rng = random.Random(seed)
        self.customers: list[CustomerModel] = []
        self.answers: list[Answer] = []
        self.unexpected: list[str] = []  # answers no correct server gives here
        self.seen: Counter[str] = Counter()  # "200", "503 database_unavailable", "lost ReadError"
        self.crash: str | None = None
        self.counter = 0
        self.customer = self._new_customer()

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> None:
        try:
            headers = {"Authorization": f"Bearer {self.api_key}"}
            with httpx2.Client(base_url=self.base_url, headers=headers, timeout=20) as http:
                while not self.shared.stopping.is_set():
                    answer = self.send(http, self.next_write())
                    self.answers.append(answer)
                    self.apply(answer)
                    if answer.status is not None:
                        self.shared.acknowledge()
        except BaseException:  # reported by the test's thread: see `problems`
            self.crash = traceback.format_exc()

    def send(self, http: httpx2.Client, write: Write) -> Answer:
        """Send until answered: lost connections, 503 and 409 `concurrent_write` (which the
        API documents as "nothing written, send it again") are retried with the same body."""
        headers = {"Idempotency-Key": write.key} if write.keyed else {}
        while not self.shared.aborting.is_set():
            self.shared.request(+1)
            try:
                response = http.post(write.path, json=write.body, headers=headers)
            except httpx2.TransportError as exc:
                self.seen[f"lost {type(exc).__name__}"] += 1
                reached_server = not isinstance(exc, httpx2.ConnectError)
                if reached_server and self.rng.random() < GIVE_UP:
                    return Answer(write, None)
                self.shared.server_up.wait(timeout=120)
                time.sleep(0.02)  # back off between retries, as a client would
                continue
            finally:
                self.shared.request(-1)
            if response.status_code == 503:
                self._check_unavailable(write, response)
                self.shared.answered_unavailable()
                if self.rng.random() < GIVE_UP:
                    return Answer(write, None)
                time.sleep(0.05)
                continue
            if response.status_code == 409 and _code(response) == "concurrent_write":
                self.seen["409 concurrent_write"] += 1  # documented: nothing written, send again
                time.sleep(0.02)
                continue
            self.seen[str(response.status_code)] += 1
            replayed = response.headers.get("idempotent-replayed") == "true"
            return Answer(write, response.status_code, response.json(), replayed)
        return Answer(write, None)

    def _check_unavailable(self, write: Write, response: httpx2.Response) -> None:
        code = _code(response)
        self.seen[f"503 {code}"] += 1
        if code != "database_unavailable" or "retry-after" not in response.headers:
            self.unexpected.append(f"{write.path} {write.key}: 503 {response.text[:300]}")

    # --- what to write next -----------------------------------------------------------------

    def _new_customer(self) -> CustomerModel:
        customer = CustomerModel(
            f"rel-{self.index}-{len(self.customers)}-{self.rng.randrange(10**9)}"
        )
        self.customers.append(customer)
        return customer

    def _key(self, kind: str) -> str:
        self.counter += 1
        return f"{self.customer.external_id}-{kind}-{self.counter}"

    def _event(self, event_type: str, data: dict[str, Any], kind: str) -> dict[str, Any]:
        return {
            "id": self._key(kind),
            "type": event_type,
            "member": {"external_id": self.customer.external_id},
            "occurred_at": datetime.now(UTC).isoformat(),
            "channel": "web",
            "data": data,
        }

    def _order(self) -> dict[str, Any]:
        lines: list[dict[str, Any]] = []
        total = 0
        for _ in range(self.rng.randint(1, 3)):
            sku, category = self.rng.choice(SKUS)
            cents = self.rng.randrange(500, 4000, 5)
            quantity = self.rng.randint(1, 3)
            total += cents * quantity
            lines.append(
                {"sku": sku, "category": category, "quantity": quantity, "unit_price": money(cents)}
            )
        order_id = self._key("order")
        data = {"order_id": order_id, "currency": "USD", "total": money(total), "lines": lines}
        return self._event("order.placed", data, "placed")

    def _refundable(self) -> list[tuple[str, OrderModel]]:
        """Orders whose points can all be taken back from what is available: no debt ever."""
        c = self.customer
        return [
            (order_id, order)
            for order_id, order in c.orders.items()
            if order.open and order.refundable_cents > 0 and order.points_left <= c.available
        ]

    def next_write(self) -> Write:
        c = self.customer
        if c.member_id is None:
            return self._single(self._order())
        choices = ["order"] * 6 + ["batch"] * 2 + ["review"] * 2
        if c.available > 0:
            choices += ["spend"] * 5
        refundable = self._refundable()
        if refundable:
            choices += ["refund"] * 3 + ["cancel"]
        match self.rng.choice(choices):
            case "order":
                return self._single(self._order())
            case "review":
                return self._single(self._event("review.submitted", {"rating": 5}, "review"))
            case "batch":
                return self._batch()
            case "spend":
                return self._spend()
            case choice:
                return self._refund(refundable, cancel=choice == "cancel")

    def _single(self, event: dict[str, Any]) -> Write:
        keyed = self.rng.random() < 0.5
        return Write(self.customer.external_id, "/v1/events", event, event["id"], keyed)

    def _batch(self) -> Write:
        events = [self._order()]
        for _ in range(self.rng.randint(1, 3)):
            if self.rng.random() < 0.5:
                events.append(self._event("review.submitted", {}, "review"))
            else:
                share = {"platform": "instagram", "url": "https://example.com/p/1"}
                events.append(self._event("social.shared", share, "share"))
        keyed = self.rng.random() < 0.5
        body = {"events": events}
        return Write(self.customer.external_id, "/v1/events/batch", body, self._key("batch"), keyed)

    def _spend(self) -> Write:
        c = self.customer
        key = self._key("spend")
        points = self.rng.randint(1, min(c.available, 40))
        body = {"points": points, "reason": "reward", "reference": key}
        return Write(c.external_id, f"/v1/members/{c.member_id}/spend", body, key)

    def _refund(self, refundable: list[tuple[str, OrderModel]], *, cancel: bool) -> Write:
        order_id, order = self.rng.choice(refundable)
        if cancel:
            return self._single(self._event("order.cancelled", {"order_id": order_id}, "cancel"))
        cents = self.rng.randint(1, min(order.refundable_cents, 2500))
        data = {"order_id": order_id, "amount": money(cents)}
        return self._single(self._event("order.refunded", data, "refund"))

    # --- what an answer tells --------------------------------------------------------------

    def apply(self, answer: Answer) -> None:
        c = self.customer
        write = answer.write
        if answer.status is None:
            c.given_up = write
            self.customer = self._new_customer()
            return
        assert answer.body is not None
        expected = 201 if write.is_spend else 200
        if answer.status != expected:
            self.unexpected.append(f"{write.path} {write.key}: {answer.status} {answer.body}")
            return
        if write.is_spend:
            c.available -= answer.body["points"]
            return
        if write.path == "/v1/events/batch":
            refused = [item for item in answer.body["items"] if item["status"] != 200]
            if refused:
                self.unexpected.append(f"batch {write.key}: items refused: {refused}")
                return
        for event, result in zip(
            write.body.get("events", [write.body]), answer.event_results(), strict=True
        ):
            self._apply_event(event, result)

    def _apply_event(self, event: dict[str, Any], result: dict[str, Any]) -> None:
        c = self.customer
        c.member_id = result["member_id"]
        points = result["points"]
        c.available += points["awarded"] - points["reversed"]
        c.lifetime_earned += points["awarded"] - points["reversed"]
        order_id = event["data"].get("order_id")
        if event["type"] == "order.placed":
            total = int(event["data"]["total"].replace(".", ""))
            c.orders[order_id] = OrderModel(points["awarded"], total)
        elif event["type"] in ("order.refunded", "order.cancelled"):
            order = c.orders[order_id]
            order.points_left -= points["reversed"]
            if "amount" in event["data"]:
                order.refundable_cents -= int(event["data"]["amount"].replace(".", ""))
            order.open = result["order_status"] != "refunded"


def start_clients(
    count: int, base_url: str, api_key: str, shared: Shared, seed: int
) -> list[Client]:
    clients = [Client(i, base_url, api_key, shared, seed * 100 + i) for i in range(count)]
    for client in clients:
        client.start()
    return clients


def stop_clients(clients: list[Client], shared: Shared, timeout: float = 120) -> None:
    """Let every client finish the write it is on (retrying until answered), then stop."""
    shared.stopping.set()
    shared.server_up.set()
    for client in clients:
        client.join(timeout)
    stuck = [c.name for c in clients if c.is_alive()]
    if stuck:
        shared.aborting.set()
    assert not stuck, f"clients still retrying after {timeout:.0f} s: {stuck}"


def abort_clients(clients: list[Client], shared: Shared) -> None:
    """The test failed: clients stop at once, without finishing their writes."""
    shared.aborting.set()
    shared.stopping.set()
    shared.server_up.set()
    for client in clients:
        client.join(30)


def problems(clients: list[Client]) -> list[str]:
    """Crashed client threads and answers that a correct server would not give."""
    found: list[str] = []
    for client in clients:
        if client.crash is not None:
            found.append(f"{client.name} crashed:\n{client.crash}")
        found += client.unexpected
    return found


def seen(clients: list[Client]) -> Counter[str]:
    total: Counter[str] = Counter()
    for client in clients:
        total += client.seen
    return total
