"""`tawasul apikey create NAME [--scope S …] [--rate N] [--entity CODE]` and friends.

The new key is printed alone on the last line of the output, once: only its digest
is stored.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from tawasul.api.credentials import api_client_create, api_client_rotate, credential_revoke
from tawasul.api.models import ApiClient, Scope
from tawasul.core.errors import DomainError
from tawasul.directory.models import Entity


class Command(BaseCommand):
    help = "Create, list, rotate or revoke partner API keys."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="create a client and print its key")
        create.add_argument("name")
        create.add_argument("--scope", action="append", default=[], choices=[str(s) for s in Scope])
        create.add_argument("--rate", type=int, default=600, help="calls per minute")
        create.add_argument("--entity", default="", help="code of the receiving entity")
        create.add_argument("--contact", default="")
        actions.add_parser("list", help="list clients (never their keys)")
        for name in ("rotate", "revoke"):
            action = actions.add_parser(name, help=f"{name} a client's key")
            action.add_argument("name")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            for client in ApiClient.objects.order_by("name"):
                state = "revoked" if client.revoked_at else "active"
                scopes = ",".join(client.scopes) or "-"
                self.stdout.write(
                    f"{client.name}\t{client.prefix}…\t{state}\t{scopes}\t"
                    f"{client.rate_limit_per_minute}/min"
                )
            return
        if action == "create":
            entity = None
            if options["entity"]:
                entity = Entity.objects.filter(code=options["entity"]).first()
                if entity is None:
                    raise CommandError(f"No entity with code {options['entity']!r}.")
            try:
                issued = api_client_create(
                    name=options["name"],
                    scopes=options["scope"],
                    rate_limit_per_minute=options["rate"],
                    entity=entity,
                    contact=options["contact"],
                )
            except DomainError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"Created API client {options['name']!r}. The key is shown once:")
            self.stdout.write(issued.secret)
            return
        found = ApiClient.objects.filter(name=options["name"]).first()
        if found is None:
            raise CommandError(f"No API client named {options['name']!r}.")
        client = found
        if action == "revoke":
            credential_revoke(client)
            self.stdout.write(f"Revoked the key of {client.name!r}.")
            return
        issued = api_client_rotate(client=client)
        self.stdout.write(f"New key for {client.name!r}; the old one no longer works:")
        self.stdout.write(issued.secret)
