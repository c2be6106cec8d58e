"""Hostile bodies: deep nesting and oversize JSON are a 400 with a sentence, at every door, never a 500."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings

from dispatch.parsers import JSONLimitError, loads_limited

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 5000 + "1" + "}" * 5000


def post_raw(client, path: str, body: str, **headers):
    return client.post(path, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()), **headers)


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
@pytest.mark.parametrize("path", ["/api/v1/auth/token/", "/api/v1/locate/batch/"])
def test_a_deep_body_before_login_is_a_400_with_a_reason(api, path, body):
    reply = post_raw(api(), path, body)
    assert reply.status_code == 400
    assert "嵌套太深" in reply.json()["detail"]


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJECT], ids=["arrays", "objects"])
def test_a_deep_body_to_every_writing_endpoint_is_a_400(api, agent, open_case_at, body):
    case = open_case_at()
    client = api(agent)
    for path in ("/api/v1/cases/", f"/api/v1/cases/{case.pk}/actions/", "/api/v1/calls/"):
        reply = post_raw(client, path, body)
        assert reply.status_code == 400, path
        assert "嵌套太深" in reply.json()["detail"], path


@override_settings(API_JSON_MAX_BYTES=2048)
def test_an_oversize_body_is_a_400_that_names_the_limit(api):
    reply = post_raw(api(), "/api/v1/locate/batch/", '{"points": [' + ",".join(['{"lon":1,"lat":1}'] * 500) + "]}")
    assert reply.status_code == 400
    assert "2048" in reply.json()["detail"]


def test_brackets_inside_strings_are_text_not_nesting():
    text = '{"description": "' + "[[[{{{" * 1000 + '"}'
    assert loads_limited(text, depth=3)["description"].startswith("[[[")


def test_an_escaped_quote_does_not_end_a_string_early():
    assert loads_limited(r'["a\"[[[[", 1]', depth=1) == ['a"[[[[', 1]


def test_depth_is_counted_exactly():
    assert loads_limited("[[1]]", depth=2) == [[1]]
    with pytest.raises(JSONLimitError):
        loads_limited("[[[1]]]", depth=2)


def test_malformed_json_is_still_a_400(api):
    reply = post_raw(api(), "/api/v1/locate/batch/", '{"points": [')
    assert reply.status_code == 400 and "JSON" in reply.json()["detail"]


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=50)
def test_an_open311_form_with_thousands_of_fields_is_a_spec_error_not_a_500(api):
    body = "&".join(f"attribute[a{i}]=x" for i in range(2000))
    reply = api().post("/open311/v2/requests.json", body, content_type="application/x-www-form-urlencoded")
    assert reply.status_code == 400
    errors = reply.json()
    assert errors[0]["code"] == 400 and errors[0]["description"]
