"""Background jobs of e-mail in: every minute, read the new mail of every IMAP mailbox.

Each mailbox is claimed before it is read (`imap.mailbox_claim`), so the schedulers of
several consumers, or a `channels_imap --idle` watcher, may run beside this job: a mailbox
being read by one of them is skipped by the others. A mailbox that cannot be read is
recorded in its account's state and the job goes on to the next one.
"""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from tawasul.channels.imap import POLL_LIMIT, imap_poll_all


@db_periodic_task(crontab(minute="*"))
def imap_poll_task() -> dict[str, int]:
    """Poll every active IMAP account once, at most `POLL_LIMIT` messages each."""
    return imap_poll_all(limit=POLL_LIMIT)
