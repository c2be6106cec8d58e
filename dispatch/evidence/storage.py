"""Storing checked photos: the files under random names, their Attachment rows, and cleanup on rollback."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Sequence

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from dispatch.evidence.photos import PreparedPhoto
from dispatch.models import Attachment, Case


def store(photo: PreparedPhoto) -> str:
    """Write the photo under a random name in MEDIA_ROOT; returns the storage name."""
    now = timezone.now()
    name = f"cases/{now:%Y/%m}/{uuid.uuid4().hex}.jpg"
    return default_storage.save(name, ContentFile(photo.content))


def discard(names: Iterable[str]) -> None:
    """Remove stored files whose database rows never committed."""
    for name in names:
        with contextlib.suppress(OSError):
            default_storage.delete(name)


def store_photos(case: Case, photos: Sequence[PreparedPhoto], *, actor, stored: list[str]) -> list[int]:
    """Write already-checked photos and their rows; names go into `stored` so a rollback can remove them."""
    ids = []
    for photo in photos:
        name = store(photo)
        stored.append(name)
        attachment = Attachment.objects.create(
            case=case,
            file=name,
            size=len(photo.content),
            width=photo.width,
            height=photo.height,
            sha256=photo.sha256,
            uploaded_by=actor,
        )
        ids.append(attachment.pk)
    return ids


class FilesOnRollback:
    """Removes photos written during a transaction that did not commit (files are not transactional).

    Use as `with FilesOnRollback() as stored, transaction.atomic():` so the files go when the
    transaction inside it raises.
    """

    def __init__(self):
        self.names: list[str] = []

    def __enter__(self):
        return self.names

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and self.names:
            discard(self.names)
        return False
