"""`tawasul apitoken create USERNAME --name NAME [--scope S …] [--days N]`.

A staff member's personal access token: it acts with the member's own grants,
narrowed to its scopes. Printed alone on the last line, once.
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from tawasul.api.credentials import STAFF_SCOPES, personal_token_create
from tawasul.core.errors import DomainError


class Command(BaseCommand):
    help = "Create a staff member's personal access token for the API."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create")
        create.add_argument("username")
        create.add_argument("--name", default="API")
        create.add_argument(
            "--scope", action="append", default=[], choices=sorted(str(s) for s in STAFF_SCOPES)
        )
        create.add_argument("--days", type=int, default=90, help="0 = never expires")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        try:
            issued = personal_token_create(
                user=user,
                name=options["name"],
                scopes=options["scope"] or sorted(STAFF_SCOPES),
                days=options["days"] or None,
            )
        except DomainError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Token {options['name']!r} for {user.get_username()}; shown once:")
        self.stdout.write(issued.secret)
