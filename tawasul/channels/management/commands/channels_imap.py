"""`manage.py channels_imap`: read the IMAP mailboxes outside the job queue.

    channels_imap --once              poll every active IMAP account once, then exit
    channels_imap                     poll them every minute until interrupted
    channels_imap --idle              watch each mailbox (IMAP IDLE) until interrupted
    channels_imap --account NAME      only this account

The periodic job (`email_tasks.imap_poll_task`) already polls every minute; `--idle` is for
a centre that wants mail within seconds. Both may run at once: a mailbox is claimed by one
reader at a time.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import QuerySet

from tawasul.channels.imap import POLL_EVERY_SECONDS, POLL_LIMIT, imap_idle, imap_poll
from tawasul.channels.models import ChannelAccount, ChannelKind


class Command(BaseCommand):
    help = "Read the IMAP mailboxes of the channel accounts (once, every minute, or IDLE)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="poll once, then exit")
        parser.add_argument("--idle", action="store_true", help="watch each mailbox with IMAP IDLE")
        parser.add_argument("--account", help="only the account with this name")
        parser.add_argument(
            "--limit", type=int, default=POLL_LIMIT, help="messages per mailbox per poll"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"] and options["idle"]:
            raise CommandError("--once and --idle cannot be used together")
        accounts = self._accounts(options["account"])
        limit = max(1, options["limit"])
        if options["once"]:
            self._poll(accounts, limit)
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda _signum, _frame: stop.set())
        if options["idle"]:
            self._watch(accounts, stop, limit)
            return
        while not stop.is_set():
            self._poll(accounts, limit)
            stop.wait(POLL_EVERY_SECONDS)

    def _accounts(self, name: str | None) -> QuerySet[ChannelAccount]:
        accounts = ChannelAccount.objects.filter(kind=ChannelKind.IMAP, is_active=True)
        if name:
            accounts = accounts.filter(name=name)
            if not accounts.exists():
                raise CommandError(f"No active IMAP account is named {name!r}.")
        return accounts.order_by("pk")

    def _poll(self, accounts: QuerySet[ChannelAccount], limit: int) -> None:
        for account in accounts.all():
            counts = imap_poll(account, limit=limit)
            summary = ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
            self.stdout.write(f"{account.name}: {summary or 'nothing new'}")

    def _watch(self, accounts: QuerySet[ChannelAccount], stop: threading.Event, limit: int) -> None:
        def watch(account: ChannelAccount) -> None:
            try:
                imap_idle(account, stop, limit=limit)
            finally:
                connection.close()

        threads = [
            threading.Thread(target=watch, args=(account,), name=f"imap-{account.pk}", daemon=True)
            for account in accounts
        ]
        for thread in threads:
            thread.start()
        self.stdout.write(f"Watching {len(threads)} mailbox(es); Ctrl-C to stop.")
        while any(thread.is_alive() for thread in threads) and not stop.is_set():
            stop.wait(1)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
