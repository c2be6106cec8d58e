"""Every API endpoint fuzzed from its own OpenAPI schema (schemathesis), as every role, plus Open311.

For each operation in /api/schema/, schemathesis generates valid and invalid inputs (a fixed seed, a
bounded number of examples, so the run is the same every time and takes a few minutes). The inputs
go out as an anonymous caller and as each persona in turn — agent, grid worker, handler, dispatcher,
supervisor — through the WSGI application in this process, against the real PostGIS and Redis. Every
answer must be no 500, carry a status code the schema lists, and match the schema's body for it.

Open311 is outside the REST schema (it has its own spec), so its endpoints get hand-written
Hypothesis strategies: any form fields, any query, any service code; the answer is never a 500 and is
either what the spec returns or its list of errors.
"""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, override_settings
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from dispatch.tests.conftest import *  # noqa: F403 - the world and the personas

pytestmark = pytest.mark.django_db

# Per operation: at most this many inputs, sent as the six roles in turn (each role twice).
EXAMPLES = 12
SEED = 20261203
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = hypothesis_settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
# Writes come faster than any person files; the write limit is its own test (dispatch/tests/test_throttles.py).
# Every wrong password runs the hasher; a fast one keeps the token endpoint's examples quick.
UNLIMITED = override_settings(
    API_WRITE_RATE="1000000/min",
    API_WRITE_HOURLY_RATE="1000000/hour",
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
)

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """Requests run in this thread, inside the test's transaction: Django must not close the connection
    at the end of each one (its own test client disconnects the same two receivers)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(world, agent, grid_worker, handler_a, dispatcher, supervisor) -> dict[str, str | None]:
    return {
        "anonymous": None,
        "agent": agent.token,
        "grid_worker": grid_worker.token,
        "handler": handler_a.token,
        "dispatcher": dispatcher.token,
        "supervisor": supervisor.token,
    }


@pytest.fixture
def some_case(open_case_at):
    # Path ids the fuzzer tries hit a real case now and then (ids start near 1 in the test database).
    return open_case_at()


@pytest.fixture
def roles(tokens):
    """The roles in turn, one per generated input: every role meets every operation, each input once."""
    return itertools.cycle(tokens.items())


@schema.parametrize()
@seed(SEED)
@FUZZ
def test_every_operation_answers_as_its_schema_says_for_every_role(case, roles, some_case):
    role, token = next(roles)
    headers = {"Authorization": f"Token {token}"} if token else {}
    with UNLIMITED:
        response = case.call(headers=headers)
    try:
        case.validate_response(response, checks=CHECKS)
    except Exception as exc:
        raise AssertionError(f"as {role}: {exc}") from exc


# --- Open311 --------------------------------------------------------------------------------------

OPEN311 = "/open311/v2/"
text = st.text(max_size=40)
numberish = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["1_0", "1e2", "", " ", "true", "26.5", "106.7", "-0", "１０６.７"]),
    text,
)
form = st.fixed_dictionaries(
    {},
    optional={
        "api_key": text,
        "service_code": st.one_of(st.sampled_from(["SJ0401", "BJ0101", "SJ04", ""]), text),
        "lat": numberish,
        "long": numberish,
        "address_string": text,
        "address_id": text,
        "email": text,
        "device_id": text,
        "account_id": text,
        "first_name": text,
        "last_name": text,
        "phone": text,
        "description": st.text(max_size=300),
        "media_url": text,
        "jurisdiction_id": st.one_of(st.just("520100"), text),
        "attribute[x]": text,
    },
)
query = st.fixed_dictionaries(
    {},
    optional={
        "service_request_id": text,
        "service_code": text,
        "start_date": text,
        "end_date": text,
        "status": st.one_of(st.sampled_from(["open", "closed", "open,closed"]), text),
        "jurisdiction_id": text,
    },
)


def assert_open311_shape(response) -> None:
    assert response.status_code < 500, response.content[:300]
    body = response.json()
    if response.status_code >= 400:
        assert isinstance(body, list) and body and all(set(e) == {"code", "description"} for e in body), body
    else:
        assert isinstance(body, list | dict), body


@seed(SEED)
@FUZZ
@given(data=form, fmt=st.sampled_from(["json", "xml"]))
def test_open311_post_never_fails_whatever_the_form(world, open311_key, data, fmt):
    data = {**data, "api_key": data.get("api_key", open311_key)}
    with UNLIMITED:
        response = Client().post(f"{OPEN311}requests.json", data)
    assert_open311_shape(response)
    xml = Client().post(f"{OPEN311}requests.xml", data)
    assert xml.status_code < 500


@seed(SEED)
@FUZZ
@given(params=query, path=st.sampled_from(["requests.json", "services.json", "discovery.json", "requests/1.json"]))
def test_open311_reads_never_fail_whatever_the_query(world, params, path):
    assert_open311_shape(Client().get(f"{OPEN311}{path}", params))


@seed(SEED)
@FUZZ
@given(code=st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=20))
def test_open311_service_definitions_never_fail_whatever_the_code(world, code):
    from urllib.parse import quote

    assert_open311_shape(Client().get(f"{OPEN311}services/{quote(code, safe='')}.json"))


@pytest.fixture
def open311_key(world):
    from hotline import services as hotline_services

    client, key = hotline_services.open311_client_create(name="fuzz")
    return key
