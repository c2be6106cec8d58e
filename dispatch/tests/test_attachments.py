"""Photos: real images only, size-capped, re-encoded as JPEG without EXIF, stored under random names."""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

from dispatch.models import Attachment, Case
from dispatch.tests.conftest import WEST_SOUTH, photo_bytes, upload

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"


def field_report(client, photos):
    body = {"category": "SJ0401", "description": "摆摊", "lon": WEST_SOUTH[0], "lat": WEST_SOUTH[1], "photos": photos}
    return client.post(CASES, body, format="multipart")


def test_a_photo_is_stored_as_jpeg_without_exif_under_a_random_name(api, world, grid_worker, media):
    original = photo_bytes("JPEG", exif=True)
    assert Image.open(io.BytesIO(original)).getexif()  # the phone's tags are there before

    response = field_report(api(grid_worker), [upload("IMG_20261122_行人.jpg", original)])

    assert response.status_code == 201, response.json()
    att = Attachment.objects.get()
    assert "IMG_2026" not in att.file.name and att.file.name.endswith(".jpg")
    stored = media / att.file.name
    assert stored.exists()
    image = Image.open(stored)
    assert image.format == "JPEG"
    assert not image.getexif()
    assert (att.width, att.height) == (64, 48)


def test_a_png_is_re_encoded_as_jpeg(api, world, grid_worker, media):
    response = field_report(api(grid_worker), [upload("shot.png", photo_bytes("PNG"), "image/png")])
    assert response.status_code == 201
    assert Image.open(media / Attachment.objects.get().file.name).format == "JPEG"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.jpg", "这不是图片".encode()),
        ("truncated.jpg", photo_bytes("JPEG", size=(400, 300))[:200]),
        ("anim.gif", photo_bytes("GIF")),
        ("empty.jpg", b""),
    ],
)
def test_anything_but_a_real_image_is_refused_with_a_clear_message(api, world, grid_worker, media, name, content):
    response = field_report(api(grid_worker), [upload(name, content)])

    assert response.status_code == 400
    assert "photos" in response.json()
    if content:  # an empty upload is refused by the form parser before our check names it
        assert name in " ".join(response.json()["photos"])
    assert not Case.objects.exists()
    assert not any(media.rglob("*.jpg"))


def test_a_photo_over_the_size_cap_is_refused(api, world, grid_worker, media, settings):
    settings.CASE_PHOTO_MAX_BYTES = 1000
    noise = Image.frombytes("RGB", (100, 100), os.urandom(100 * 100 * 3))
    out = io.BytesIO()
    noise.save(out, format="PNG")
    big = out.getvalue()
    assert len(big) > 1000

    response = field_report(api(grid_worker), [upload("big.png", big, "image/png")])

    assert response.status_code == 400
    assert "big.png" in response.json()["photos"][0]


def test_more_than_six_photos_are_refused(api, world, grid_worker, media):
    response = field_report(api(grid_worker), [upload(f"{i}.jpg") for i in range(7)])
    assert response.status_code == 400
    assert "photos" in response.json()


def test_one_bad_photo_refuses_the_whole_report(api, world, grid_worker, media):
    response = field_report(api(grid_worker), [upload("good.jpg"), upload("bad.jpg", b"GIF89a nonsense")])
    assert response.status_code == 400
    assert not Attachment.objects.exists()
