"""Photo checks for field reports and evidence.

A photo is accepted only if Pillow can open and verify it as JPEG, PNG or WebP, it is within the size
cap (`CASE_PHOTO_MAX_BYTES`) and the pixel cap (`CASE_PHOTO_MAX_PIXELS`, against decompression bombs).
It is then re-encoded as JPEG — which drops EXIF, GPS tags of the phone and anything smuggled after
the image data — turned upright by its EXIF orientation first. Storing it is dispatch.evidence.storage.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "MPO"})
# The longest side kept; a phone's 50-megapixel shot does not help anybody judge a pothole.
MAX_SIDE = 4096


def _max_bytes() -> int:
    return int(getattr(settings, "CASE_PHOTO_MAX_BYTES", 10 * 1024 * 1024))


def _max_pixels() -> int:
    return int(getattr(settings, "CASE_PHOTO_MAX_PIXELS", 50_000_000))


def max_photos() -> int:
    return int(getattr(settings, "CASE_PHOTOS_MAX", 6))


@dataclass(frozen=True)
class PreparedPhoto:
    content: bytes
    width: int
    height: int
    sha256: str


def _label(upload, index: int) -> str:
    name = getattr(upload, "name", "") or ""
    return name.rsplit("/", 1)[-1][:80] or _("第 %(n)d 张") % {"n": index + 1}


def _read(upload) -> bytes:
    if isinstance(upload, bytes | bytearray):
        return bytes(upload)
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(_max_bytes() + 1)
    if hasattr(upload, "seek"):
        upload.seek(0)
    return data


def prepare_photo(upload, index: int = 0) -> PreparedPhoto:
    """Check one upload and re-encode it; ValidationError with a message naming the photo if refused."""
    label = _label(upload, index)
    size = getattr(upload, "size", None)
    limit_mb = _max_bytes() // (1024 * 1024)
    if size is not None and size > _max_bytes():
        raise ValidationError(_("照片“%(name)s”超过 %(mb)d MB。") % {"name": label, "mb": limit_mb})
    raw = _read(upload)
    if len(raw) > _max_bytes():
        raise ValidationError(_("照片“%(name)s”超过 %(mb)d MB。") % {"name": label, "mb": limit_mb})
    if not raw:
        raise ValidationError(_("照片“%(name)s”是空文件。") % {"name": label})
    not_image = _("“%(name)s”不是可识别的图片（支持 JPEG、PNG、WebP）。") % {"name": label}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(raw))
            if probe.format not in ACCEPTED_FORMATS:
                raise ValidationError(not_image)
            if probe.width * probe.height > _max_pixels():
                raise ValidationError(_("照片“%(name)s”像素过多。") % {"name": label})
            probe.verify()
            # verify() leaves the image unusable; decode it again from the start.
            image = Image.open(io.BytesIO(raw))
            image.load()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError, Warning):
        raise ValidationError(not_image) from None
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image, mask=image.getchannel("A"))
        image = background
    elif image.mode != "RGB":
        image = image.convert("RGB")
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    content = out.getvalue()
    return PreparedPhoto(content, image.width, image.height, hashlib.sha256(content).hexdigest())


def prepare_photos(uploads: Sequence, *, field: str = "photos") -> list[PreparedPhoto]:
    """Check every upload; one ValidationError listing each refusal under `field`."""
    uploads = list(uploads or ())
    if len(uploads) > max_photos():
        raise ValidationError({field: [_("最多上传 %(n)d 张照片。") % {"n": max_photos()}]})
    prepared, errors = [], []
    for i, upload in enumerate(uploads):
        if isinstance(upload, PreparedPhoto):
            prepared.append(upload)
            continue
        try:
            prepared.append(prepare_photo(upload, i))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({field: errors})
    return prepared
