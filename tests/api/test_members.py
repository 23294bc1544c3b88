"""/v1/members: enrolment, lookups by every identifier, pagination, changes and the card."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from punchcard.kit import luhn
from punchcard.kit.clock import FixedClock
from punchcard.programs.domain import Scope
from tests.conftest import START, Api


def new_external_id() -> str:
    return f"cust-{uuid.uuid4().hex[:10]}"


def enrol(api: Api, external_id: str | None = None, **fields: Any) -> dict[str, Any]:
    body = {"external_id": external_id or new_external_id(), **fields}
    response = api.client.post("/v1/members", json=body, headers=api.headers())
    assert response.status_code == 201, response.text
    member: dict[str, Any] = response.json()
    return member


def find(api: Api, **params: Any) -> dict[str, Any]:
    response = api.client.get("/v1/members", params=params, headers=api.headers(Scope.ANALYST))
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def found_ids(api: Api, **params: Any) -> list[int]:
    return [m["id"] for m in find(api, **params)["items"]]


# --- enrolment ---------------------------------------------------------------------------


def test_enrol_returns_201_with_a_luhn_card_number_and_card_links(api: Api) -> None:
    external_id = new_external_id()
    response = api.client.post(
        "/v1/members",
        json={"external_id": external_id, "name": "Ada", "channel": "web"},
        headers=api.headers(Scope.STOREFRONT),
    )

    assert response.status_code == 201, response.text
    member = response.json()
    assert isinstance(member["id"], int)
    assert member["external_id"] == external_id
    assert member["name"] == "Ada"
    assert member["channel"] == "web"
    number = member["card_number"]
    assert len(number) == 16
    assert number.isdigit()
    assert luhn.is_valid(number)
    card = member["card"]
    assert card["number"] == number
    assert card["qr_token"]
    assert card["qr_svg"] == f"/v1/members/{member['id']}/card.svg"
    assert card["qr_png"] == f"/v1/members/{member['id']}/card.png"
    assert datetime.fromisoformat(member["created_at"]) == START


def test_two_members_get_different_card_numbers_and_qr_tokens(api: Api) -> None:
    first, second = enrol(api), enrol(api)

    assert first["id"] != second["id"]
    assert first["card_number"] != second["card_number"]
    assert first["card"]["qr_token"] != second["card"]["qr_token"]


def test_enrolling_the_same_external_id_again_returns_200_and_the_same_member(api: Api) -> None:
    first = enrol(api, email="first@example.com")

    again = api.client.post(
        "/v1/members",
        json={"external_id": first["external_id"], "email": "second@example.com"},
        headers=api.headers(),
    )

    assert again.status_code == 200, again.text
    assert again.json()["id"] == first["id"]
    assert again.json()["card_number"] == first["card_number"]
    assert again.json()["email"] == "first@example.com"
    assert found_ids(api, external_id=first["external_id"]) == [first["id"]]


def test_enrolment_ignores_surrounding_whitespace_in_the_external_id(api: Api) -> None:
    external_id = new_external_id()
    first = enrol(api, external_id)

    again = api.client.post(
        "/v1/members", json={"external_id": f"  {external_id} "}, headers=api.headers()
    )

    assert again.status_code == 200, again.text
    assert again.json()["id"] == first["id"]


def test_get_member_by_id(api: Api) -> None:
    created = enrol(api, email="ada@example.com", phone="+442071234567", name="Ada")

    response = api.client.get(f"/v1/members/{created['id']}", headers=api.headers(Scope.ANALYST))

    assert response.status_code == 200, response.text
    assert response.json() == created


# --- lookups -----------------------------------------------------------------------------


def test_lookup_by_each_identifier_finds_only_that_member(api: Api) -> None:
    target = enrol(api, email="target@example.com", phone="+14155550100")
    other = enrol(api, email="other@example.com", phone="+14155550199")

    assert found_ids(api, external_id=target["external_id"]) == [target["id"]]
    assert found_ids(api, email="target@example.com") == [target["id"]]
    assert found_ids(api, phone="+14155550100") == [target["id"]]
    assert found_ids(api, card_number=target["card_number"]) == [target["id"]]
    assert found_ids(api, qr_token=target["card"]["qr_token"]) == [target["id"]]
    assert found_ids(api, card_number=other["card_number"]) == [other["id"]]


def test_lookup_with_several_identifiers_needs_all_of_them_to_match(api: Api) -> None:
    target = enrol(api, email="both@example.com")
    other = enrol(api)

    assert found_ids(api, email="both@example.com", external_id=target["external_id"]) == [
        target["id"]
    ]
    assert found_ids(api, email="both@example.com", external_id=other["external_id"]) == []


def test_lookup_of_an_unknown_identifier_returns_an_empty_page(api: Api) -> None:
    enrol(api)

    page = find(api, external_id="nobody-has-this-id")

    assert page == {"items": [], "next_cursor": None}


def test_email_is_stored_lower_cased_and_looked_up_case_insensitively(api: Api) -> None:
    member = enrol(api, email="Ada.Lovelace@Example.COM")

    assert member["email"] == "ada.lovelace@example.com"
    assert found_ids(api, email="ADA.LOVELACE@EXAMPLE.COM") == [member["id"]]
    assert found_ids(api, email="ada.lovelace@example.com") == [member["id"]]


def test_phone_is_normalised_to_e164_for_storage_and_lookup(api: Api) -> None:
    member = enrol(api, phone="+1 (415) 555-0100")

    assert member["phone"] == "+14155550100"
    assert found_ids(api, phone="+14155550100") == [member["id"]]
    assert found_ids(api, phone="+1 415.555.0100") == [member["id"]]
    assert found_ids(api, phone="0014155550100") == [member["id"]]


# --- pagination --------------------------------------------------------------------------


def test_pagination_walks_every_member_once_in_enrolment_order(api: Api) -> None:
    enrolled = [enrol(api)["id"] for _ in range(7)]

    seen: list[int] = []
    cursors: list[str | None] = []
    cursor: str | None = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": 3}
        if cursor is not None:
            params["cursor"] = cursor
        page = find(api, **params)
        assert len(page["items"]) <= 3
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        cursors.append(cursor)
        if cursor is None:
            break

    assert seen == enrolled
    assert len(cursors) == 3
    assert cursors[-1] is None
    assert all(isinstance(c, str) for c in cursors[:-1])


def test_a_page_that_holds_the_last_member_exactly_has_no_next_cursor(api: Api) -> None:
    enrolled = [enrol(api)["id"] for _ in range(4)]

    first = find(api, limit=2)
    second = find(api, limit=2, cursor=first["next_cursor"])
    everything = find(api, limit=4)

    assert [m["id"] for m in first["items"]] == enrolled[:2]
    assert [m["id"] for m in second["items"]] == enrolled[2:]
    assert second["next_cursor"] is None
    assert [m["id"] for m in everything["items"]] == enrolled
    assert everything["next_cursor"] is None


def test_default_page_lists_all_members_of_the_program(api: Api) -> None:
    enrolled = [enrol(api)["id"] for _ in range(3)]

    page = find(api)

    assert [m["id"] for m in page["items"]] == enrolled
    assert page["next_cursor"] is None


@pytest.mark.parametrize("limit", [0, 201, -1])
def test_limit_out_of_range_is_refused(api: Api, limit: int) -> None:
    response = api.client.get("/v1/members", params={"limit": limit}, headers=api.headers())

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("cursor", ["garbage!!", "eDo1", "aWQ6LTE"])
def test_a_cursor_not_given_out_by_the_api_is_refused(api: Api, cursor: str) -> None:
    response = api.client.get("/v1/members", params={"cursor": cursor}, headers=api.headers())

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_cursor"


# --- changes -----------------------------------------------------------------------------


def test_patch_changes_email_and_name_and_keeps_what_is_left_out(
    api: Api, clock: FixedClock
) -> None:
    member = enrol(api, email="old@example.com", phone="+14155550100", name="Old")
    clock.set(START + timedelta(hours=1))

    response = api.client.patch(
        f"/v1/members/{member['id']}",
        json={"email": "New@Example.com", "name": "New"},
        headers=api.headers(Scope.POS),
    )

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["email"] == "new@example.com"
    assert changed["name"] == "New"
    assert changed["phone"] == "+14155550100"
    assert changed["card_number"] == member["card_number"]
    assert datetime.fromisoformat(changed["updated_at"]) == START + timedelta(hours=1)
    assert datetime.fromisoformat(changed["created_at"]) == START
    fetched = api.client.get(f"/v1/members/{member['id']}", headers=api.headers()).json()
    assert fetched == changed
    assert found_ids(api, email="new@example.com") == [member["id"]]
    assert found_ids(api, email="old@example.com") == []


def test_patch_with_null_clears_a_field(api: Api) -> None:
    member = enrol(api, email="clear@example.com", phone="+14155550100", name="Clear")

    response = api.client.patch(
        f"/v1/members/{member['id']}", json={"email": None, "name": None}, headers=api.headers()
    )

    assert response.status_code == 200, response.text
    assert response.json()["email"] is None
    assert response.json()["name"] is None
    assert response.json()["phone"] == "+14155550100"
    fetched = api.client.get(f"/v1/members/{member['id']}", headers=api.headers()).json()
    assert fetched["email"] is None
    assert fetched["name"] is None


def test_patch_normalises_a_new_phone(api: Api) -> None:
    member = enrol(api)

    response = api.client.patch(
        f"/v1/members/{member['id']}", json={"phone": "+44 20 7123 4567"}, headers=api.headers()
    )

    assert response.status_code == 200, response.text
    assert response.json()["phone"] == "+442071234567"
    assert found_ids(api, phone="+442071234567") == [member["id"]]


# --- invalid identifiers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("email", "not-an-email"),
        ("email", "two@@example.com"),
        ("phone", "4155550100"),
        ("phone", "+1 call me"),
        ("phone", "+0123456789"),
    ],
)
def test_enrolment_with_an_invalid_identifier_is_refused_and_enrols_nobody(
    api: Api, field: str, value: str
) -> None:
    external_id = new_external_id()

    response = api.client.post(
        "/v1/members", json={"external_id": external_id, field: value}, headers=api.headers()
    )

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_identifier"
    assert error["details"]["field"] == field
    assert found_ids(api, external_id=external_id) == []


def test_enrolment_with_a_future_birthday_is_refused(api: Api) -> None:
    response = api.client.post(
        "/v1/members",
        json={"external_id": new_external_id(), "birthday": "2030-01-01"},
        headers=api.headers(),
    )

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_identifier"
    assert response.json()["error"]["details"]["field"] == "birthday"


@pytest.mark.parametrize(("field", "value"), [("email", "nope"), ("phone", "555-0100")])
def test_patch_with_an_invalid_identifier_is_refused_and_changes_nothing(
    api: Api, field: str, value: str
) -> None:
    member = enrol(api, email="keep@example.com", phone="+14155550100")

    response = api.client.patch(
        f"/v1/members/{member['id']}", json={field: value, "name": "Changed"}, headers=api.headers()
    )

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_identifier"
    assert response.json()["error"]["details"]["field"] == field
    fetched = api.client.get(f"/v1/members/{member['id']}", headers=api.headers()).json()
    assert fetched == member


def test_lookup_by_a_mistyped_card_number_is_refused(api: Api) -> None:
    number = enrol(api)["card_number"]
    mistyped = number[:-1] + str((int(number[-1]) + 1) % 10)
    assert not luhn.is_valid(mistyped)

    response = api.client.get(
        "/v1/members", params={"card_number": mistyped}, headers=api.headers()
    )

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_identifier"
    assert response.json()["error"]["details"]["field"] == "card_number"


@pytest.mark.parametrize(("field", "value"), [("email", "nope"), ("phone", "12")])
def test_lookup_with_an_invalid_identifier_is_refused(api: Api, field: str, value: str) -> None:
    response = api.client.get("/v1/members", params={field: value}, headers=api.headers())

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_identifier"


# --- the card ----------------------------------------------------------------------------


def test_card_svg_is_an_svg_image(api: Api) -> None:
    member = enrol(api)

    response = api.client.get(member["card"]["qr_svg"], headers=api.headers(Scope.ANALYST))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in response.content


def test_card_png_is_a_png_image(api: Api) -> None:
    member = enrol(api)

    response = api.client.get(member["card"]["qr_png"], headers=api.headers(Scope.POS))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG\r\n\x1a\n")


def test_cards_of_two_members_differ(api: Api) -> None:
    first, second = enrol(api), enrol(api)

    svg_first = api.client.get(first["card"]["qr_svg"], headers=api.headers()).content
    svg_second = api.client.get(second["card"]["qr_svg"], headers=api.headers()).content

    assert svg_first != svg_second


def test_card_of_an_unknown_member_is_404(api: Api) -> None:
    response = api.client.get("/v1/members/999999999/card.svg", headers=api.headers())

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "member_not_found"


def test_a_card_number_typed_with_spaces_or_dashes_is_found(api: Api) -> None:
    member = enrol(api)
    number = member["card_number"]
    spaced = " ".join(number[i : i + 4] for i in range(0, 16, 4))
    assert found_ids(api, card_number=spaced) == [member["id"]]
    assert found_ids(api, card_number=spaced.replace(" ", "-")) == [member["id"]]
