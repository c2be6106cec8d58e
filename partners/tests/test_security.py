"""Login throttling and the security log, as an attacker and an admin would meet them."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib import admin as django_admin
from django.contrib.auth import get_user_model
from django.db import DatabaseError, transaction
from django.test import Client, override_settings

from partners import services
from partners.models import Department, Membership, SecurityEvent
from partners.tests.factories import build_geography, unit

pytestmark = pytest.mark.django_db

PASSWORD = "right-horse-battery"  # noqa: S105
FAST = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


@pytest.fixture(autouse=True)
def _fast_hashing():
    with FAST:
        yield


@pytest.fixture
def alice():
    return get_user_model().objects.create_user("alice", password=PASSWORD)


def token(api, username, password, ip="10.0.0.1"):
    return api().post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


def kinds(**filters) -> list[str]:
    return list(SecurityEvent.objects.filter(**filters).order_by("id").values_list("kind", flat=True))


def test_the_token_endpoint_locks_a_username_after_five_wrong_passwords(api, alice):
    for _ in range(4):
        assert token(api, "alice", "wrong").status_code == 400
    fifth = token(api, "alice", "wrong")
    assert fifth.status_code == 429
    assert int(fifth["Retry-After"]) == 15 * 60
    assert "锁定" in fifth.json()["detail"]
    # Now even the right password is refused, from another address too.
    right = token(api, "alice", PASSWORD, ip="10.9.9.9")
    assert right.status_code == 429 and "Retry-After" in right


def test_each_failure_and_the_lockout_land_in_the_security_log(api, alice):
    for _ in range(5):
        token(api, "alice", "wrong")
    assert kinds(username="alice") == ["login_failed"] * 4 + ["lockout"]
    lockout = SecurityEvent.objects.get(kind="lockout")
    assert lockout.ip_address == "10.0.0.1" and lockout.path == "/api/v1/auth/token/"


def test_a_good_login_gets_a_token_and_is_logged(api, alice):
    first = token(api, "alice", PASSWORD)
    assert first.status_code == 200 and len(first.json()["token"]) == 40
    assert token(api, "alice", PASSWORD).json()["token"] == first.json()["token"]
    assert kinds(username="alice") == ["login", "token_created", "login"]


def test_one_address_is_locked_after_many_failures_over_many_names(api, alice):
    # 50 failures from one address over 25 names: two each, far below one name's limit of five.
    for i in range(50):
        reply = token(api, f"guess{i % 25}", "wrong", ip="10.6.6.6")
    assert reply.status_code == 429
    assert token(api, "alice", PASSWORD, ip="10.6.6.6").status_code == 429
    # Other addresses are not affected: a hotline centre behind another address still signs in.
    assert token(api, "alice", PASSWORD, ip="10.0.0.2").status_code == 200


@override_settings(LOGIN_IP_FAILURE_LIMIT=50)
def test_a_few_typos_from_a_shared_address_do_not_lock_out_colleagues(api, alice):
    get_user_model().objects.create_user("bob", password=PASSWORD)
    for _ in range(3):
        token(api, "bob", "typo", ip="10.1.1.1")
    assert token(api, "alice", PASSWORD, ip="10.1.1.1").status_code == 200


def test_the_login_page_answers_429_with_retry_after_once_locked(alice):
    client = Client()
    for _ in range(5):
        page = client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.2.0.1")
    assert page.status_code == 429
    assert page["Retry-After"] == str(15 * 60)
    assert "锁定" in page.content.decode()
    assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 429


def test_the_admin_login_is_throttled_too(alice):
    alice.is_staff = True
    alice.save()
    client = Client()
    for _ in range(5):
        page = client.post("/admin/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.3.0.1")
    assert page.status_code == 429


def test_an_admin_unlocks_a_locked_name_and_the_unlock_is_logged(api, alice):
    for _ in range(5):
        token(api, "alice", "wrong")
    admin = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client = Client()
    client.force_login(admin)
    attempts = list(AccessAttempt.objects.filter(username="alice").values_list("pk", flat=True))
    page = client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempts, "post": "yes"},
    )
    assert page.status_code == 302
    assert token(api, "alice", PASSWORD).status_code == 200
    unlock = SecurityEvent.objects.get(kind="unlock")
    assert unlock.username == "alice" and unlock.actor_name == "root"


def test_the_security_log_refuses_updates_and_deletes_even_from_the_orm():
    row = services.security_event_record(kind=SecurityEvent.Kind.LOGIN, username="alice")
    with pytest.raises(DatabaseError), transaction.atomic():
        SecurityEvent.objects.filter(pk=row.pk).update(username="mallory")
    with pytest.raises(DatabaseError), transaction.atomic():
        SecurityEvent.objects.filter(pk=row.pk).delete()
    assert SecurityEvent.objects.get(pk=row.pk).username == "alice"


def test_granting_and_revoking_a_role_is_logged_with_who_did_it(alice):
    areas = build_geography(districts=1, streets=1, communities=1)
    bureau = unit(areas["520102"], Department.CHENGGUAN)
    admin = get_user_model().objects.create_superuser("root", password=PASSWORD)
    membership = services.membership_save(
        membership=Membership(user=alice, unit=bureau, role=Membership.Role.HANDLER), actor=admin
    )
    services.membership_delete(membership=membership, actor=admin)
    granted, revoked = SecurityEvent.objects.filter(username="alice").order_by("id")
    assert (granted.kind, revoked.kind) == ("role_granted", "role_revoked")
    assert granted.actor_name == "root" and granted.detail["role"] == "handler"
    assert granted.detail["unit"] == bureau.code


def test_admins_read_the_security_log_with_filters_and_cannot_edit_it(alice):
    services.security_event_record(kind=SecurityEvent.Kind.LOGIN_FAILED, username="mallory")
    services.security_event_record(kind=SecurityEvent.Kind.LOGIN, username="alice")
    admin = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/partners/securityevent/?kind__exact=login_failed")
    assert page.status_code == 200
    text = page.content.decode()
    assert "mallory" in text and "alice" not in text.split("result_list")[-1]
    row = SecurityEvent.objects.get(username="mallory")
    assert client.post(f"/admin/partners/securityevent/{row.pk}/delete/", {"post": "yes"}).status_code == 403


def test_making_someone_staff_or_superuser_in_the_admin_is_logged(alice, rf):
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    user_admin = django_admin.site._registry[get_user_model()]
    request = rf.post("/admin/auth/user/")
    request.user = root
    alice.is_staff = alice.is_superuser = True
    user_admin.save_model(request, alice, form=None, change=True)
    alice.is_superuser = False
    user_admin.save_model(request, alice, form=None, change=True)
    rows = SecurityEvent.objects.filter(username="alice").order_by("id").values_list("kind", "detail", "actor_name")
    assert list(rows) == [
        ("role_granted", {"role": "is_staff"}, "root"),
        ("role_granted", {"role": "is_superuser"}, "root"),
        ("role_revoked", {"role": "is_superuser"}, "root"),
    ]


def test_an_attackers_own_good_login_does_not_wipe_the_count_of_the_name_being_guessed(api, alice):
    get_user_model().objects.create_user("mallory", password=PASSWORD)
    for _ in range(4):
        token(api, "alice", "guess", ip="10.7.7.7")
    assert token(api, "mallory", PASSWORD, ip="10.7.7.7").status_code == 200
    assert token(api, "alice", "guess", ip="10.7.7.7").status_code == 429


def test_a_users_own_good_login_forgets_their_typos(api, alice):
    for _ in range(4):
        token(api, "alice", "typo")
    assert token(api, "alice", PASSWORD).status_code == 200
    assert [token(api, "alice", "typo").status_code for _ in range(4)] == [400] * 4
