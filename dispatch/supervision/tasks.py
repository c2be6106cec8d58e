"""Celery door into the rules: beat runs them; each run re-reads the log and is safe to repeat."""

from __future__ import annotations

from celery import shared_task

from dispatch.supervision.services import supervision_run


@shared_task(name="dispatch.supervision.tasks.run_rules", acks_late=True, ignore_result=True)
def run_rules(codes: list[str] | None = None) -> dict:
    """Run the enabled supervision rules (or `codes`) and store what they find."""
    return supervision_run(codes=codes).as_dict()
