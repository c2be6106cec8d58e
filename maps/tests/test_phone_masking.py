"""Every door masks every spelling of a phone number with the one function, partners.privacy.mask_phones.

A grid worker (or a handler returning a case) may type a number however people write them; the same
set of spellings is fed in once and looked for behind each door: the case API, the case page, the
supervisor's dashboard (triage queue with return notes), hot words, the websocket payload and the
log output. Case and event text is stored as typed by the field and API channels, so a door that
forgets to mask shows the number.
"""

# ruff: noqa: F811 - the fixtures imported from dispatch's conftest are used as arguments
from __future__ import annotations

import logging
import unicodedata

import pytest
from django.test import Client

from dispatch.live.messages import event_payload
from dispatch.services import case_return
from dispatch.tests.conftest import (  # noqa: F401 - fixtures shared with dispatch's tests
    handler_a,
    open_case_at,
    world,
)
from maps import dashboard, hotwords
from partners.privacy import MaskPhonesFilter, mask_phones
from tests.personas import fresh

pytestmark = pytest.mark.django_db

# The middle digits (9753 in mobiles, 8642 in landlines) are what masking hides; the test looks for them.
SPELLINGS = [
    "13897535678",
    "138 9753 5678",
    "138-9753-5678",
    "138.9753.5678",
    "138\u30009753\u30005678",
    "+86 138 9753 5678",
    "+8613897535678",
    "86-13897535678",
    "１３８９７５３５６７８",
    "０８５１－８６４２２３４５",
    "0851-8642 2345",
    "0851-86422345",
    "(0851) 8642 2345",
    "（0851）86422345",
]
TEXT = "路灯不亮，联系人电话：" + "；".join(SPELLINGS) + "。"


def leaked(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKC", text)
    return [middle for middle in ("9753", "8642") if middle in plain]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_each_spelling_is_masked_by_the_one_function(spelling):
    assert leaked(mask_phones(spelling)) == [], mask_phones(spelling)


def test_ordinary_numbers_stay_readable():
    text = "井盖编号 BJ0101，3 个坑，2026 年 11 月，门牌 128 号，网格 520102001001001"
    assert mask_phones(text) == text


@pytest.fixture
def case(open_case_at, grid_worker):
    return open_case_at(description=TEXT, address="中华北路 " + SPELLINGS[1], source="field", reporter=grid_worker)


def test_the_case_api_masks_description_address_and_event_notes(api, case, handler_a, supervisor):
    listed = api(handler_a).get("/api/v1/cases/")
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert leaked(listed.content.decode()) == []
    case_return(case_id=case.pk, actor=handler_a, version=case.version, note="不归我们管，" + TEXT)
    detail = api(supervisor).get(f"/api/v1/cases/{case.pk}/")
    assert detail.status_code == 200
    assert "不归我们管" in detail.content.decode()
    assert leaked(detail.content.decode()) == []


def test_the_case_page_masks_what_was_typed(case, supervisor):
    client = Client()
    client.force_login(supervisor)
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    assert leaked(page.content.decode()) == []


def test_the_dashboard_triage_queue_masks_description_and_return_notes(api, case, handler_a, supervisor):
    case_return(case_id=case.pk, actor=handler_a, version=case.version, note="转交，" + TEXT)
    reply = api(supervisor).get("/maps/api/triage/")
    assert reply.status_code == 200
    assert reply.json()["count"] == 1
    assert leaked(reply.content.decode()) == []
    assert leaked(str(dashboard.triage_queue(fresh(supervisor)))) == []


def test_hot_words_never_hold_a_number(case):
    assert leaked("".join(hotwords.words(TEXT))) == []


def test_a_socket_payload_masks_a_number_in_a_unit_name(case, world):
    unit = case.lead_unit
    unit.name = "城管局（值班 138 9753 5678）"
    unit.save()
    event = case.events.order_by("-id").first()
    assert leaked(str(event_payload(event))) == []


def test_log_lines_are_masked_on_their_way_out():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "caller said %s", (TEXT,), None)
    assert MaskPhonesFilter().filter(record) is True
    assert leaked(record.getMessage()) == []
