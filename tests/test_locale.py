"""Chinese by default, English when asked, in the API and in pages."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_speaks_chinese_by_default_and_english_when_asked(client):
    chinese = client.get("/api/v1/locate/", {"lon": "abc", "lat": "26.5"})
    english = client.get("/api/v1/locate/", {"lon": "abc", "lat": "26.5"}, HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == english.status_code == 400
    assert chinese.json() != english.json()
    assert "lon" in english.json()
    assert any("number" in str(message).lower() for message in english.json()["lon"])


def test_pages_take_their_language_from_the_url_prefix(client):
    assert client.get("/maps/", HTTP_ACCEPT_LANGUAGE="en").headers["Content-Language"] == "zh-hans"
    assert client.get("/en/maps/").headers["Content-Language"] == "en"
