"""Create an Open311 client and print its API key (shown this once; only a digest is stored)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from hotline.services import open311_client_create


class Command(BaseCommand):
    help = "Create an Open311 API key for a client: manage.py open311_key NAME [--contact TEXT]. Prints the key."

    def add_arguments(self, parser):
        parser.add_argument("name", help="who the key is for, e.g. 筑民生 app")
        parser.add_argument("--contact", default="", help="how to reach the client's maintainers")

    def handle(self, *args, name: str, contact: str, **options):
        try:
            client, key = open311_client_create(name=name, contact=contact)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stderr.write(f"Open311 client {client.name!r} created; its key is shown only now:")
        self.stdout.write(key)
