"""`manage.py import_data KIND FILE`: load one file of data-formats.md, all rows or none."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.models import User
from scoring.imports import KINDS, import_csv


class Command(BaseCommand):
    help = (
        "Import a CSV file of one kind (data-formats.md). Every row is validated first; on any "
        "bad row each one is listed, nothing is written and the exit status is non-zero."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=KINDS, help="What the file holds.")
        parser.add_argument("file", help="Path of the CSV file (UTF-8), or - for standard input.")
        parser.add_argument(
            "--actor", metavar="EMAIL", help="Record this user as the author in the audit history."
        )

    def handle(self, *args: Any, kind: str, file: str, actor: str | None, **options: Any) -> None:
        user = self._actor(actor)
        if file == "-":
            result = import_csv(kind, sys.stdin.buffer, actor=user)
        else:
            try:
                with open(file, "rb") as stream:
                    result = import_csv(kind, stream, actor=user)
            except OSError as exc:
                raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            lines = len({error.line for error in result.errors})
            raise CommandError(
                f"{len(result.errors)} error(s) on {lines} line(s) of {file}; nothing was imported."
            )
        self.stdout.write(
            f"Imported {result.rows} rows of {kind}: {result.created} created, "
            f"{result.updated} updated, {result.unchanged} unchanged."
        )

    def _actor(self, email: str | None) -> User | None:
        if not email:
            return None
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with the e-mail address {email}.")
        return user
