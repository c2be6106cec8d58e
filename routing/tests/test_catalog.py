"""The demo category tree, the category checks and the catalogue's admin pages."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from partners.models import Capability, Department
from routing import catalog, demo_catalog
from routing.models import Category

KIND_PREFIX = {"component": "BJ", "event": "SJ", "need": "XQ"}


def test_the_catalogue_has_at_least_sixty_leaves_across_the_three_kinds():
    leaves = demo_catalog.leaves()
    kinds = {fields["kind"] for node, _parent, fields in demo_catalog.walk() if not node.get("children")}

    assert len(leaves) >= 60
    assert kinds == {"component", "event", "need"}


def test_every_code_is_unique_and_extends_its_parents_code():
    seen = set()
    for node, parent, fields in demo_catalog.walk():
        assert node["code"] not in seen
        seen.add(node["code"])
        assert node["code"].startswith(KIND_PREFIX[fields["kind"]])
        if parent is not None:
            assert node["code"].startswith(parent) and len(node["code"]) == len(parent) + 2


def test_every_leaf_has_several_chinese_keywords_and_sensible_limits():
    for node, _parent, fields in demo_catalog.walk():
        if node.get("children"):
            continue
        assert len(node["keywords"]) >= 3, node["code"]
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in word) for word in node["keywords"]), node["code"]
        urgent_sign_minutes, normal_sign_hours = fields["sign"]
        urgent_reply_hours, normal_reply_days = fields["reply"]
        assert 0 < urgent_sign_minutes <= 60 and 0 < normal_sign_hours <= 8
        assert 0 < urgent_reply_hours <= 72 and 0 < normal_reply_days <= 15


def test_needs_ask_for_known_capabilities_and_departments():
    for node, _parent, fields in demo_catalog.walk():
        assert set(fields["capabilities"]) <= set(Capability.values), node["code"]
        assert set(fields["collaborators"]) <= set(Department.values), node["code"]
        if fields["kind"] == "need" and not node.get("children"):
            assert fields["capabilities"] or node["code"].startswith("XQ04"), node["code"]


@pytest.mark.django_db
def test_loading_the_catalogue_twice_changes_nothing_the_second_time():
    first = catalog.category_sync(tree=demo_catalog.walk())
    second = catalog.category_sync(tree=demo_catalog.walk())

    assert first["created"] == len(list(demo_catalog.walk()))
    assert second == {"created": 0, "updated": 0}


@pytest.mark.django_db
def test_components_are_routed_owner_first_and_events_territory_first_by_default():
    catalog.category_sync(tree=demo_catalog.walk())

    lamp = Category.objects.get(code="BJ0107")
    vending = Category.objects.get(code="SJ0401")
    lonely = Category.objects.get(code="XQ0101")

    assert (lamp.kind, lamp.principle) == ("component", "owner_first")
    assert (vending.kind, vending.principle) == ("event", "territory_first")
    assert lonely.capabilities == ["elderly_care"]
    assert lonely.collaborator_departments == ["minzheng"]
    assert Category.objects.get(code="SJ0503").default_urgency == "urgent"
    assert (lamp.sign_urgent_minutes, lamp.reply_normal_work_days) == (30, 5)


@pytest.mark.django_db
def test_a_category_must_be_of_its_parents_kind():
    root = catalog.category_create(code="BJ", name="部件", kind="component")

    with pytest.raises(ValidationError) as error:
        catalog.category_create(code="BJ99", name="错误", kind="event", parent=root)

    assert "kind" in error.value.message_dict


@pytest.mark.django_db
def test_a_category_cannot_become_its_own_ancestor():
    root = catalog.category_create(code="BJ", name="部件", kind="component")
    child = catalog.category_create(code="BJ01", name="公用设施", kind="component", parent=root)

    with pytest.raises(ValidationError) as error:
        catalog.category_update(category_id=root.id, parent=child)

    assert "parent" in error.value.message_dict


@pytest.mark.django_db
def test_limits_must_be_positive():
    with pytest.raises(ValidationError):
        catalog.category_create(code="BJ", name="部件", kind="component", sign_urgent_minutes=0)


@pytest.mark.django_db
def test_the_admin_lists_and_opens_categories_and_rules(client):
    catalog.category_sync(tree=demo_catalog.walk())
    lamp = Category.objects.get(code="BJ0107")
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-only"))

    for url in (
        "/admin/routing/category/",
        f"/admin/routing/category/{lamp.id}/change/",
        "/admin/routing/category/?q=路灯",
        "/admin/routing/responsibilityrule/",
        "/admin/routing/responsibilityrule/add/",
    ):
        assert client.get(url).status_code == 200, url
