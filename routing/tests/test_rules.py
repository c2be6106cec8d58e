"""Rule validation (services and admin) and how rule changes reach every process's routing tables."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from partners import services as partner_services
from routing import catalog
from routing.models import ResponsibilityRule
from routing.router import route
from routing.tables import publish_version, tables
from routing.tests.routing_world import build_world

pytestmark = pytest.mark.django_db

POINT = (106.72, 26.52)  # 南明区 西街道


@pytest.fixture
def w():
    return build_world()


def test_a_rule_that_ties_with_another_is_refused_naming_the_other_rule(w):
    first = catalog.rule_create(
        category=w.categories["SJ04"], territory_code="520102", department="chengguan", level="district"
    )

    with pytest.raises(ValidationError) as error:
        catalog.rule_create(category=w.categories["SJ04"], territory_code="520102", department="zhifa", level="street")

    message = " ".join(error.value.message_dict["territory_code"])
    assert f"#{first.id}" in message
    assert "冲突" in message
    assert ResponsibilityRule.objects.count() == 1


def test_the_same_rule_twice_is_refused_as_a_duplicate(w):
    first = catalog.rule_create(category=w.categories["BJ0107"], territory_code="520100", unit=w.units["city-gongdian"])

    with pytest.raises(ValidationError) as error:
        catalog.rule_create(category=w.categories["BJ0107"], territory_code="520100", unit=w.units["city-gongdian"])

    assert f"#{first.id}" in " ".join(error.value.messages)
    assert "重复" in " ".join(error.value.messages)


def test_an_owner_rule_and_a_territorial_rule_may_share_category_and_territory(w):
    owner = catalog.rule_create(category=w.categories["BJ0107"], territory_code="520100", unit=w.units["city-gongdian"])
    territory = catalog.rule_create(
        category=w.categories["BJ0107"], territory_code="520100", department="chengguan", level="district"
    )

    assert (owner.basis, territory.basis) == ("owner", "territory")
    assert route(category="BJ0107", lon=POINT[0], lat=POINT[1]).lead == w.units["city-gongdian"]


def test_an_edit_that_would_create_a_tie_is_refused_too(w):
    catalog.rule_create(
        category=w.categories["SJ04"], territory_code="520102", department="chengguan", level="district"
    )
    other = catalog.rule_create(
        category=w.categories["SJ04"], territory_code="520103", department="chengguan", level="district"
    )

    with pytest.raises(ValidationError):
        catalog.rule_update(rule_id=other.id, territory_code="520102")

    other.refresh_from_db()
    assert other.territory_code == "520103"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"territory_code": "529999"}, "territory_code"),
        ({"territory_code": "520102001009"}, "territory_code"),
        ({"territory_code": "abc"}, "territory_code"),
        ({"department": "chengguan"}, "level"),
        ({"level": "district"}, "department"),
        ({}, "unit"),
    ],
)
def test_an_incomplete_or_unknown_rule_is_refused_with_a_field_error(w, fields, field):
    values = {"territory_code": "520102", **fields}
    with pytest.raises(ValidationError) as error:
        catalog.rule_create(category=w.categories["SJ04"], **values)
    assert field in error.value.message_dict


def test_a_rule_may_name_a_unit_or_a_department_but_not_both(w):
    with pytest.raises(ValidationError) as error:
        catalog.rule_create(
            category=w.categories["SJ04"],
            territory_code="520102",
            unit=w.units["520102-chengguan"],
            department="zhifa",
            level="street",
        )
    assert "unit" in error.value.message_dict


def test_the_territory_level_is_worked_out_from_the_code(w):
    levels = {
        code: catalog.rule_create(
            category=w.categories["SJ"], territory_code=code, department="chengguan", level="district"
        ).territory_level
        for code in ("520100", "520102", "520102001", "520102001001", "520102001001002")
    }

    assert levels == {
        "520100": "city",
        "520102": "district",
        "520102001": "street",
        "520102001001": "community",
        "520102001001002": "grid",
    }


def test_the_database_refuses_a_tie_that_skipped_validation(w):
    ResponsibilityRule.objects.create(
        category=w.categories["SJ"], territory_code="520102", territory_level="district", basis="territory",
        department="chengguan", level="district",
    )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        ResponsibilityRule.objects.create(
            category=w.categories["SJ"], territory_code="520102", territory_level="district", basis="territory",
            department="zhifa", level="street",
        )  # fmt: skip


def test_the_admin_refuses_a_conflicting_rule_with_the_same_message(w, client):
    first = catalog.rule_create(
        category=w.categories["SJ04"], territory_code="520102", department="chengguan", level="district"
    )
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(admin)

    response = client.post(
        "/admin/routing/responsibilityrule/add/",
        {
            "category": w.categories["SJ04"].id,
            "territory_code": "520102",
            "basis": "territory",
            "department": "zhifa",
            "level": "street",
            "note": "",
        },
    )

    assert response.status_code == 200  # the form again, with the error
    assert f"#{first.id}" in response.content.decode()
    assert ResponsibilityRule.objects.count() == 1


def test_the_admin_saves_a_valid_rule_through_the_service(w, client, django_capture_on_commit_callbacks):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(admin)
    before = route(category="SJ0401", lon=POINT[0], lat=POINT[1])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/routing/responsibilityrule/add/",
            {
                "category": w.categories["SJ04"].id,
                "territory_code": "520102",
                "basis": "territory",
                "department": "chengguan",
                "level": "district",
                "note": "",
            },
        )

    assert response.status_code == 302
    rule = ResponsibilityRule.objects.get()
    assert rule.territory_level == "district"
    assert before.triage is True
    assert route(category="SJ0401", lon=POINT[0], lat=POINT[1]).lead == w.units["520102-chengguan"]


# --- the tables follow the rules -------------------------------------------------------------------


def test_a_rule_edited_through_the_service_is_seen_by_the_next_decision(w, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        rule = catalog.rule_create(
            category=w.categories["SJ04"], territory_code="520102", department="chengguan", level="district"
        )
    assert route(category="SJ0401", lon=POINT[0], lat=POINT[1]).lead == w.units["520102-chengguan"]

    with django_capture_on_commit_callbacks(execute=True):
        catalog.rule_update(rule_id=rule.id, department="zhifa", level="street")

    assert route(category="SJ0401", lon=POINT[0], lat=POINT[1]).lead == w.units["520102001-zhifa"]

    with django_capture_on_commit_callbacks(execute=True):
        catalog.rule_delete(rule_id=rule.id)

    assert route(category="SJ0401", lon=POINT[0], lat=POINT[1]).triage is True


def test_a_change_committed_by_another_process_is_seen_once_the_shared_version_moves(w, settings):
    settings.ROUTER_CHECK_INTERVAL = 0
    assert route(category="SJ0401", lon=POINT[0], lat=POINT[1]).triage is True

    # Another process writes a rule and commits; until its commit moves the version in Redis this
    # process keeps routing from its own tables.
    ResponsibilityRule.objects.create(
        category=w.categories["SJ04"], territory_code="520102", territory_level="district", basis="territory",
        department="chengguan", level="district",
    )  # fmt: skip
    assert route(category="SJ0401", lon=POINT[0], lat=POINT[1]).triage is True

    publish_version()

    assert route(category="SJ0401", lon=POINT[0], lat=POINT[1]).lead == w.units["520102-chengguan"]


def test_a_rolled_back_rule_changes_nothing(w, django_capture_on_commit_callbacks):
    version_before = tables().version
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                catalog.rule_create(
                    category=w.categories["SJ04"], territory_code="520102", department="chengguan", level="district"
                )
                raise RuntimeError("the caller's transaction fails after the rule was written")
        except RuntimeError:
            pass

    assert callbacks == []
    assert tables().version == version_before
    assert route(category="SJ0401", lon=POINT[0], lat=POINT[1]).triage is True


def test_a_unit_deactivated_through_the_partners_services_stops_receiving_cases(
    w, django_capture_on_commit_callbacks, settings
):
    settings.ROUTER_CHECK_INTERVAL = 0
    catalog.rule_create(category=w.categories["SJ04"], territory_code="520100", department="zhifa", level="street")
    assert route(category="SJ0401", lon=POINT[0], lat=POINT[1]).lead == w.units["520102001-zhifa"]

    with django_capture_on_commit_callbacks(execute=True):
        partner_services.units_deactivate(codes=["520102001-zhifa"])

    assert route(category="SJ0401", lon=POINT[0], lat=POINT[1]).triage is True
