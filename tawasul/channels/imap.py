"""IMAP mailboxes: read what arrives, keep each e-mail once, mark it read only once kept.

An account of kind `imap` names its server in its settings — `host`, `port` (993 with TLS,
else 143), `username`, `ssl` (TLS from the first byte, default on), `starttls` (upgrade a
plain connection, default off), `ssl_ca_file` (a private CA's certificates), `folder`
(default INBOX), `processed_folder` (where kept mail is moved, optional), `address` (the
mailbox's own address: mail from it is a loop) — and keeps its `password` as a secret.

`imap_poll` reads the new mail of one mailbox: the messages after the last UID it saw
(kept in `account.state` with the folder's UIDVALIDITY; when that changes, or the first
time, only the unread messages are taken, so a mailbox's history is not imported), each
fetched without touching its flags (BODY.PEEK[]), parsed (`email_in`) and handed to
`inbound_receive`; only then is it flagged \\Seen (and moved). A crash in between reads it
again next time, and the store keeps an e-mail once per Message-ID, so nothing is stored
twice and nothing is lost.

One poller per mailbox at a time: a claim in the account's row (a conditional update
under the row lock, with an expiry so a crashed worker does not hold it for ever) works
on SQLite and PostgreSQL, across processes and machines.

`imap_idle` waits on the server (IMAP IDLE) and polls as soon as it announces new mail,
re-issuing IDLE every 25 minutes as RFC 2177 asks; a server without IDLE is polled every
minute. Failures (wrong password, server down) are recorded in the account's state as an
error class — never raised out of the periodic job, never with an address or a text.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone
from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from tawasul.channels.email_in import incoming_from_bytes
from tawasul.channels.inbound import inbound_receive
from tawasul.channels.models import ChannelAccount, ChannelKind

logger = logging.getLogger(__name__)

POLL_LIMIT = 100  # messages per mailbox per poll
FETCH_BATCH = 20  # messages per FETCH
CLAIM_SECONDS = 10 * 60  # a poller's claim on its mailbox, renewed after each batch
IDLE_RENEW_SECONDS = 25 * 60  # RFC 2177: re-issue IDLE at least every 29 minutes
IDLE_WAKE_SECONDS = 5.0  # how often an idle watcher looks whether it must stop
POLL_EVERY_SECONDS = 60.0  # without IDLE
RECONNECT_SECONDS = 60.0  # after a failure
BUSY_RETRY_SECONDS = 10.0  # another poller had the mailbox: look again soon
SEEN = b"\\Seen"
# What a mailbox that cannot be read raises: the server's refusals, the network's failures.
MAILBOX_ERRORS: tuple[type[BaseException], ...] = (IMAPClientError, OSError)
_TRUE = frozenset({"1", "true", "yes", "on"})


# --- polling --------------------------------------------------------------------------------


def imap_poll(account: ChannelAccount, *, limit: int = POLL_LIMIT) -> dict[str, int]:
    """Read one mailbox's new mail (at most `limit` messages): counts of what happened.

    A mailbox another worker is reading is left alone (`busy`); one that cannot be read
    (login refused, server unreachable) is recorded in the account's state (`failed`)."""
    token = mailbox_claim(account)
    if token is None:
        return {"busy": 1}
    try:
        with mailbox_connected(account) as client:
            return _mailbox_read(client, account, limit=limit, token=token)
    except MAILBOX_ERRORS as error:
        _poll_failed(account, error)
        return {"failed": 1}
    finally:
        mailbox_release(account, token)


def imap_poll_all(*, limit: int = POLL_LIMIT) -> dict[str, int]:
    """Poll every active IMAP account once; one account's failure never stops the others."""
    totals: dict[str, int] = {"accounts": 0}
    for account in ChannelAccount.objects.filter(kind=ChannelKind.IMAP, is_active=True).order_by(
        "pk"
    ):
        totals["accounts"] += 1
        try:
            counts = imap_poll(account, limit=limit)
        except Exception as error:  # a bug or the database: recorded, the next account goes on
            logger.error("imap account %s: poll failed (%s)", account.pk, type(error).__name__)
            counts = {"failed": 1}
            with contextlib.suppress(Exception):
                _state_update(account, {"last_error": type(error).__name__})
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    return totals


def _mailbox_read(
    client: IMAPClient, account: ChannelAccount, *, limit: int, token: str
) -> dict[str, int]:
    """The work of a poll on a connected client (shared by `imap_poll` and `imap_idle`)."""
    counts = {"fetched": 0, "stored": 0, "repeated": 0}
    selected = client.select_folder(account.setting("folder") or "INBOX")
    validity = int(selected.get(b"UIDVALIDITY") or 0)
    state = account.state if isinstance(account.state, dict) else {}
    known = state.get("uidvalidity") == validity and isinstance(state.get("last_uid"), int)
    last_uid = int(state["last_uid"]) if known else 0
    # The first time, or once the folder was renumbered: the unread mail, not the history.
    found = client.search(["UID", f"{last_uid + 1}:*"] if known else ["UNSEEN"])
    waiting = sorted(uid for uid in found if uid > last_uid)
    processed_folder = account.setting("processed_folder").strip()
    if processed_folder and waiting and not client.folder_exists(processed_folder):
        client.create_folder(processed_folder)
    for start in range(0, min(len(waiting), limit), FETCH_BATCH):
        batch = waiting[start : min(start + FETCH_BATCH, limit)]
        kept = _batch_read(client, account, batch, counts)
        _batch_settle(client, kept, processed_folder)
        if known:
            last_uid = batch[-1]
            _state_update(account, {"last_uid": last_uid}, token=token)
    if not known and len(waiting) <= limit:
        # The unread backlog is done: from now on, every message after the newest one.
        _state_update(
            account,
            {"uidvalidity": validity, "last_uid": _newest_uid(client, selected, waiting)},
            token=token,
        )
    _state_update(
        account, {"last_polled_at": timezone.now().isoformat(), "last_error": ""}, token=token
    )
    if counts["fetched"]:
        logger.info(
            "imap account %s: %s fetched, %s stored, %s repeated",
            account.pk,
            counts["fetched"],
            counts["stored"],
            counts["repeated"],
        )
    return counts


def _batch_read(
    client: IMAPClient, account: ChannelAccount, uids: list[int], counts: dict[str, int]
) -> list[int]:
    """Fetch and keep a batch; the UIDs kept (a message gone meanwhile is skipped)."""
    fetched = client.fetch(uids, ["BODY.PEEK[]"])
    kept: list[int] = []
    for uid in uids:
        raw = (fetched.get(uid) or {}).get(b"BODY[]")
        if not isinstance(raw, bytes):
            continue
        counts["fetched"] += 1
        _message, new = inbound_receive(account, incoming_from_bytes(raw, account))
        counts["stored" if new else "repeated"] += 1
        kept.append(uid)
    return kept


def _batch_settle(client: IMAPClient, uids: list[int], processed_folder: str) -> None:
    """Mark kept messages read, and move them where the account says."""
    if not uids:
        return
    client.add_flags(uids, [SEEN])
    if not processed_folder:
        return
    if client.has_capability("MOVE"):
        client.move(uids, processed_folder)
        return
    client.copy(uids, processed_folder)
    client.delete_messages(uids)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(uids)
    else:
        client.expunge()


def _newest_uid(client: IMAPClient, selected: dict[bytes, Any], waiting: list[int]) -> int:
    following = selected.get(b"UIDNEXT")
    if following:
        return max(int(following) - 1, *waiting, 0)
    return max(client.search(["ALL"]) or [0])


def _poll_failed(account: ChannelAccount, error: BaseException) -> None:
    """Record why a mailbox could not be read: the error's class only (its text may quote
    the server, which may name the mailbox)."""
    logger.warning(
        "imap account %s: cannot read the mailbox (%s)", account.pk, type(error).__name__
    )
    _state_update(
        account,
        {"last_error": type(error).__name__, "last_error_at": timezone.now().isoformat()},
    )


# --- the connection ---------------------------------------------------------------------------


def _flag(account: ChannelAccount, key: str, default: bool) -> bool:
    value = account.setting(key).strip().lower()
    return default if not value else value in _TRUE


@contextlib.contextmanager
def mailbox_connected(account: ChannelAccount) -> Iterator[IMAPClient]:
    """A logged-in client for the account's mailbox, logged out afterwards."""
    use_ssl = _flag(account, "ssl", True)
    port = int(account.setting("port") or (993 if use_ssl else 143))
    context = None
    if use_ssl or _flag(account, "starttls", False):
        context = ssl.create_default_context(cafile=account.setting("ssl_ca_file") or None)
    client = IMAPClient(
        account.setting("host"),
        port=port,
        ssl=use_ssl,
        ssl_context=context if use_ssl else None,
        timeout=settings.TAWASUL_CHANNEL_HTTP_TIMEOUT,
    )
    try:
        if not use_ssl and context is not None:
            client.starttls(context)
        client.login(account.setting("username"), account.secret("password"))
        yield client
    finally:
        with contextlib.suppress(*MAILBOX_ERRORS):
            client.logout()


# --- one poller per mailbox -------------------------------------------------------------------


def mailbox_claim(account: ChannelAccount, *, seconds: int = CLAIM_SECONDS) -> str | None:
    """Claim the mailbox for one poll: a token, or None while another poller holds an
    unexpired claim. The claim lives in the account's row, taken under its row lock (an
    IMMEDIATE transaction on SQLite), so it holds across processes and machines."""
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        state = _state_locked(account)
        held = state.get("poll_claim")
        if isinstance(held, dict) and _claim_until(held) > now:
            return None
        state["poll_claim"] = {
            "token": token,
            "until": (now + timedelta(seconds=seconds)).isoformat(),
        }
        _state_write(account, state)
    return token


def mailbox_release(account: ChannelAccount, token: str) -> None:
    """Give the claim back (only ours: an expired one may have been taken meanwhile)."""
    with transaction.atomic():
        state = _state_locked(account)
        held = state.get("poll_claim")
        if isinstance(held, dict) and held.get("token") == token:
            state.pop("poll_claim")
            _state_write(account, state)


def _claim_until(held: dict[str, Any]) -> datetime:
    try:
        until = datetime.fromisoformat(str(held.get("until")))
    except ValueError:
        return timezone.now() - timedelta(seconds=1)
    return until if timezone.is_aware(until) else timezone.now() - timedelta(seconds=1)


def _state_update(account: ChannelAccount, changes: dict[str, Any], *, token: str = "") -> None:
    """Merge changes into the account's state under its row lock (other keys, written by
    another process meanwhile, are kept); with our claim's token, extend the claim."""
    with transaction.atomic():
        state = _state_locked(account)
        state.update(changes)
        held = state.get("poll_claim")
        if token and isinstance(held, dict) and held.get("token") == token:
            held["until"] = (timezone.now() + timedelta(seconds=CLAIM_SECONDS)).isoformat()
        _state_write(account, state)


def _state_locked(account: ChannelAccount) -> dict[str, Any]:
    row = ChannelAccount.objects.select_for_update().only("pk", "state").get(pk=account.pk)
    return dict(row.state) if isinstance(row.state, dict) else {}


def _state_write(account: ChannelAccount, state: dict[str, Any]) -> None:
    ChannelAccount.objects.filter(pk=account.pk).update(state=state)
    account.state = state


# --- waiting for mail (IDLE) ------------------------------------------------------------------


def imap_idle(
    account: ChannelAccount,
    stop_event: threading.Event,
    *,
    limit: int = POLL_LIMIT,
    renew_seconds: float = IDLE_RENEW_SECONDS,
    wake_seconds: float = IDLE_WAKE_SECONDS,
    poll_every_seconds: float = POLL_EVERY_SECONDS,
    reconnect_seconds: float = RECONNECT_SECONDS,
) -> None:
    """Watch one mailbox until `stop_event` is set: read new mail as soon as the server
    announces it (IDLE), or every minute where it cannot; reconnect after a failure."""
    while not stop_event.is_set():
        try:
            with mailbox_connected(account) as client:
                _mailbox_watch(
                    client,
                    account,
                    stop_event,
                    limit=limit,
                    renew_seconds=renew_seconds,
                    wake_seconds=wake_seconds,
                    poll_every_seconds=poll_every_seconds,
                )
        except MAILBOX_ERRORS as error:
            _poll_failed(account, error)
            stop_event.wait(reconnect_seconds)
        except Exception as error:  # the database, or a bug: recorded, tried again later
            logger.error("imap account %s: watch failed (%s)", account.pk, type(error).__name__)
            with contextlib.suppress(Exception):
                _state_update(account, {"last_error": type(error).__name__})
            stop_event.wait(reconnect_seconds)
        if stop_event.is_set() or not _still_active(account):
            return


def _mailbox_watch(
    client: IMAPClient,
    account: ChannelAccount,
    stop_event: threading.Event,
    *,
    limit: int,
    renew_seconds: float,
    wake_seconds: float,
    poll_every_seconds: float,
) -> None:
    can_idle = client.has_capability("IDLE")
    while not stop_event.is_set():
        close_old_connections()  # a long-lived loop: drop a broken database connection
        if not _still_active(account):
            return
        token = mailbox_claim(account)
        if token is not None:
            try:
                _mailbox_read(client, account, limit=limit, token=token)
            finally:
                mailbox_release(account, token)
        if not can_idle:
            stop_event.wait(poll_every_seconds if token else BUSY_RETRY_SECONDS)
            continue
        _state_update(account, {"idle_at": timezone.now().isoformat()})
        client.idle()
        try:
            _idle_wait(
                client,
                stop_event,
                seconds=renew_seconds if token else BUSY_RETRY_SECONDS,
                wake_seconds=wake_seconds,
            )
        finally:
            client.socket().settimeout(settings.TAWASUL_CHANNEL_HTTP_TIMEOUT)
            client.idle_done()


def _idle_wait(
    client: IMAPClient, stop_event: threading.Event, *, seconds: float, wake_seconds: float
) -> bool:
    """Wait in IDLE until the server announces new mail (True), the time is up or we must
    stop (False). A connection the server dropped answers at once with nothing, over and
    over: that raises, so the watcher reconnects."""
    deadline = time.monotonic() + seconds
    empty_at_once = 0
    while not stop_event.is_set() and time.monotonic() < deadline:
        asked = time.monotonic()
        responses = client.idle_check(timeout=wake_seconds)
        if any(_announces_mail(response) for response in responses):
            return True
        if not responses and time.monotonic() - asked < wake_seconds / 10:
            empty_at_once += 1
            if empty_at_once >= 3:
                raise ConnectionResetError("the IMAP server closed the connection")
        else:
            empty_at_once = 0
    return False


def _announces_mail(response: Any) -> bool:
    return isinstance(response, tuple) and len(response) >= 2 and response[1] == b"EXISTS"


def _still_active(account: ChannelAccount) -> bool:
    """The account is still on (staff may turn it off while it is watched); its settings
    and secret are refreshed too."""
    try:
        account.refresh_from_db(fields=["is_active", "settings", "secret_encrypted"])
    except ChannelAccount.DoesNotExist:
        return False
    return account.is_active
