"""Run the supervision rules now (beat runs them too): `manage.py supervision_run [--rule CODE ...]`."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dispatch.supervision import rules
from dispatch.supervision.services import supervision_run


class Command(BaseCommand):
    help = "Run the supervision (数据铁笼) rules over the case event log and store their findings."

    def add_arguments(self, parser):
        parser.add_argument(
            "--rule",
            action="append",
            dest="codes",
            choices=sorted(rules.RULES),
            help="run only this rule, enabled or not (repeatable); default: every enabled rule",
        )

    def handle(self, *args, codes=None, **options):
        try:
            result = supervision_run(codes=codes, stdout=self.stdout)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        created = sum(r.created for r in result.rules)
        updated = sum(r.updated for r in result.rules)
        if result.failed:
            raise CommandError(f"rules failed (see the log): {', '.join(result.failed)}")
        summary = f"{len(result.rules)} rules run: {created} new findings, {updated} updated."
        self.stdout.write(self.style.SUCCESS(summary))
