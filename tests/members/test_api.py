"""Partner API: /api/v1/members..."""

import pytest

from core.models import OutboxEvent
from members.models import ExternalIdentity, User

pytestmark = pytest.mark.django_db
URL = "/api/v1/members"


def _create(client, **body):
    payload = {"external_id": "U-1001", "phone": "13800001111", "name": "张三", **body}
    return client.post(URL, payload, format="json")


def test_create_member(api_client, published):
    response = _create(
        api_client,
        email="Zs@Example.com",
        birthday="1990-05-01",
        gender="male",
        region="上海",
        channel="shop",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["member_id"].startswith("m_") and body["external_id"] == "U-1001"
    assert body["phone"] == "13800001111" and body["email"] == "zs@example.com" and body["name"] == "张三"
    member = User.objects.get(member_id=body["member_id"])
    identity = ExternalIdentity.objects.get(member=member)
    assert identity.partner == api_client.partner and identity.subject == "U-1001"
    event = OutboxEvent.objects.get(type="member.created")
    assert event.partner == api_client.partner and event.data["member_id"] == member.member_id
    assert [n for n, _ in published] == ["member_registered"]


def test_existing_external_id_is_409_with_member_id(api_client):
    first = _create(api_client).json()
    response = _create(api_client, phone="13800002222")
    assert response.status_code == 409
    body = response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    assert body["code"] == "member_exists" and body["member_id"] == first["member_id"]


def test_existing_phone_is_409_with_member_id(api_client):
    first = _create(api_client).json()
    response = _create(api_client, external_id="U-2")
    assert response.status_code == 409 and response.json()["member_id"] == first["member_id"]
    assert "phone" in response.json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"phone": "12345678901"}, "phone"),
        ({"phone": "1380000111"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"birthday": "2999-01-01"}, "birthday"),
        ({"birthday": "1990-02-30"}, "birthday"),
        ({"gender": "robot"}, "gender"),
        ({"external_id": ""}, "external_id"),
        ({"referral_code": "NOSUCHCODE"}, "referral_code"),
    ],
)
def test_validation_errors_per_field(api_client, body, field):
    response = _create(api_client, **body)
    assert response.status_code == 400, response.content
    problem = response.json()
    assert field in problem["errors"], problem
    assert not User.objects.exists()


def test_referral_code_links_referrer(api_client, member):
    response = _create(api_client, referral_code=member.referral_code)
    assert response.status_code == 201
    assert User.objects.get(member_id=response.json()["member_id"]).referred_by == member


def test_get_and_patch_by_member_id_and_ext(api_client):
    member_id = _create(api_client).json()["member_id"]
    assert api_client.get(f"{URL}/{member_id}").json()["member_id"] == member_id
    assert api_client.get(f"{URL}/ext:U-1001").json()["member_id"] == member_id
    response = api_client.patch(f"{URL}/ext:U-1001", {"region": "杭州", "gender": "female"}, format="json")
    assert response.status_code == 200 and response.json()["region"] == "杭州"
    response = api_client.patch(
        f"{URL}/{member_id}", {"birthday": "2999-01-01", "gender": "x"}, format="json"
    )
    assert response.status_code == 400 and {"birthday", "gender"} <= set(response.json()["errors"])
    assert api_client.get(f"{URL}/m_doesnotexist").status_code == 404


def test_ext_addressing_is_isolated_between_partners(make_api_client):
    shop = make_api_client(partner="shop")
    pos = make_api_client(partner="pos")
    member_id = _create(shop).json()["member_id"]
    assert pos.get(f"{URL}/ext:U-1001").status_code == 404
    assert pos.get(URL, {"external_id": "U-1001"}).json()["results"] == []
    # the same external id is another member at another partner
    other = _create(pos, phone="13800003333").json()
    assert other["member_id"] != member_id
    assert pos.get(f"{URL}/ext:U-1001").json()["member_id"] == other["member_id"]
    assert shop.get(f"{URL}/ext:U-1001").json()["member_id"] == member_id
    # and pos does not see shop's external id when reading the member by member_id
    assert pos.get(f"{URL}/{member_id}").json()["external_id"] is None


def test_lookup(api_client):
    member_id = _create(api_client, email="a@example.com").json()["member_id"]
    for params in ({"phone": "13800001111"}, {"email": "A@example.com"}, {"external_id": "U-1001"}):
        body = api_client.get(URL, params).json()
        assert [m["member_id"] for m in body["results"]] == [member_id] and body["next"] is None
    response = api_client.get(URL)
    assert response.status_code == 400 and "query" in response.json()["errors"]


def test_lookup_is_cursor_paginated(api_client):
    for i in range(3):
        _create(
            api_client,
            external_id=f"E{i}",
            phone=f"1380000{i:04d}",
            email="same@example.com" if i == 0 else f"s{i}@example.com",
        )
    body = api_client.get(URL, {"phone": "13800000001", "page_size": 1}).json()
    assert len(body["results"]) == 1


def test_bind_identity(api_client, make_api_client):
    member_id = _create(api_client).json()["member_id"]
    response = api_client.post(
        f"{URL}/{member_id}/identities", {"provider": "wechat", "subject": "oXyz"}, format="json"
    )
    assert response.status_code == 201 and response.json()["member_id"] == member_id
    again = api_client.post(
        f"{URL}/{member_id}/identities", {"provider": "wechat", "subject": "oXyz"}, format="json"
    )
    assert again.status_code == 201  # idempotent for the same member
    other = _create(api_client, external_id="U-2", phone="13800009999").json()["member_id"]
    response = api_client.post(
        f"{URL}/{other}/identities", {"provider": "wechat", "subject": "oXyz"}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "identity_exists"
    response = api_client.post(
        f"{URL}/{other}/identities", {"provider": "We Chat!", "subject": ""}, format="json"
    )
    assert response.status_code == 400 and {"provider", "subject"} <= set(response.json()["errors"])


def test_scopes(make_api_client):
    reader = make_api_client(scopes=["members:read"])
    response = _create(reader)
    assert response.status_code == 403 and response.json()["code"] == "missing_scope"
    assert reader.get(URL, {"phone": "13800001111"}).status_code == 200
    nobody = make_api_client(scopes=["orders:write"], partner="other")
    assert nobody.get(URL, {"phone": "13800001111"}).status_code == 403


def test_idempotent_create(api_client):
    first = api_client.post(
        URL, {"external_id": "I-1", "phone": "13800004444"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    replay = api_client.post(
        URL, {"external_id": "I-1", "phone": "13800004444"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
    )
    assert first.status_code == replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true" and replay.json()["member_id"] == first.json()["member_id"]


def test_phone_or_email_is_required(api_client):
    response = api_client.post(URL, {"external_id": "only-id"}, format="json")
    assert response.status_code == 400 and {"phone", "email"} <= set(response.json()["errors"])


def test_codes_through_the_api_share_the_limits(api_client, member, django_capture_on_commit_callbacks):
    from members.models import ThrottleBucket

    from .conftest import last_sms_code

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/verification-codes",
            {"channel": "sms", "target": member.phone, "purpose": "login", "client_ip": "7.7.7.7"},
            format="json",
        )
    assert response.status_code == 202, response.content
    again = api_client.post(
        "/api/v1/verification-codes",
        {"channel": "sms", "target": member.phone, "purpose": "login"},
        format="json",
    )
    assert again.status_code == 429 and int(again["Retry-After"]) >= 1
    assert ThrottleBucket.objects.get(key="code:ip:7.7.7.7:hour").count == 1
    code = last_sms_code(member.phone)
    response = api_client.post(
        "/api/v1/verification-codes/verify",
        {"channel": "sms", "target": member.phone, "purpose": "login", "code": code},
        format="json",
    )
    assert response.status_code == 200 and response.json() == {
        "verified": True,
        "member_id": member.member_id,
    }
    response = api_client.post(
        "/api/v1/verification-codes/verify",
        {"channel": "sms", "target": member.phone, "purpose": "login", "code": code},
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "code_invalid"
    bad = api_client.post(
        "/api/v1/verification-codes", {"channel": "sms", "target": "123", "purpose": "x"}, format="json"
    )
    assert bad.status_code == 400 and {"purpose"} <= set(bad.json()["errors"])
    bad = api_client.post(
        "/api/v1/verification-codes", {"channel": "sms", "target": "123", "purpose": "login"}, format="json"
    )
    assert bad.status_code == 400 and "target" in bad.json()["errors"]


def test_closed_member_cannot_be_updated_or_bound(api_client):
    from members.services import member_close

    member_id = _create(api_client).json()["member_id"]
    member = User.objects.get(member_id=member_id)
    member.set_password("Str0ng-pass-9")
    member.save()
    member_close(member=member, password="Str0ng-pass-9")
    assert api_client.get(f"{URL}/ext:U-1001").status_code == 404  # identities removed on closure
    response = api_client.patch(f"{URL}/{member_id}", {"region": "北京"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "member_closed"
    response = api_client.post(
        f"{URL}/{member_id}/identities", {"provider": "shop", "subject": "X"}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "member_closed"
