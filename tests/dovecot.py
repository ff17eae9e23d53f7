"""A private Dovecot IMAP server for the e-mail channel's tests.

`dovecot` (session-scoped) starts Debian's `/usr/sbin/dovecot` in the foreground with its
own configuration in a temporary directory: plain IMAP on 127.0.0.1 on a free port, no
TLS, a passwd-file of `{PLAIN}` passwords, one static user id (ours, or Dovecot's own
unprivileged user when we run as root) and a maildir per user under the temporary
directory. The system's /etc/dovecot and its service are never used. A test module imports
`dovecot_server` and asks for `dovecot`; `dovecot.mailbox_new()` adds a user with an empty
mailbox, so each test starts clean; mail goes in by a real IMAP APPEND.

Without Dovecot the tests that need it are skipped, unless `TAWASUL_REQUIRE_SERVICES=1`
(CI), where a missing server fails them.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from imapclient import IMAPClient

DOVECOT = Path(os.environ.get("TAWASUL_DOVECOT", "/usr/sbin/dovecot"))
HOST = "127.0.0.1"
START_SECONDS = 20
USERS = 200  # mailboxes a test session may use (one or two a test)

_CONFIG = """\
# A private test instance: nothing here touches the system's Dovecot.
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# No slowing down of failed logins (a test logs in with a wrong password on purpose).
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {host}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service auth-worker {{
  user = {internal_user}
}}
service stats {{
  unix_listener stats-reader {{
    user = {internal_user}
  }}
  unix_listener stats-writer {{
    user = {internal_user}
  }}
}}
"""


@dataclass
class Dovecot:
    """The running server: where it listens, and its users (a fresh one per test)."""

    host: str
    port: int
    root: Path
    pool: list[tuple[str, str]]
    users: dict[str, str] = field(default_factory=dict)

    def mailbox_new(self) -> tuple[str, str]:
        """A user with an empty mailbox, not given out before: (user name, password).

        The users are written before the server starts (Dovecot notices a changed
        passwd-file by its modification time, to the second: a user added just after
        another could be refused)."""
        username, password = self.pool.pop()
        self.users[username] = password
        return username, password

    @contextlib.contextmanager
    def client(self, username: str) -> Iterator[IMAPClient]:
        """A logged-in IMAP client for the tests' own look at the mailbox."""
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        try:
            client.login(username, self.users[username])
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def append(
        self, username: str, raw: bytes, *, folder: str = "INBOX", flags: Sequence[str] = ()
    ) -> None:
        """Deliver a message the way a mail client files one: IMAP APPEND."""
        with self.client(username) as client:
            client.append(folder, raw, flags=tuple(flags))

    def account_settings(self, username: str, **extra: object) -> dict[str, object]:
        """The settings of an IMAP channel account reading this mailbox."""
        return {
            "host": self.host,
            "port": self.port,
            "username": username,
            "ssl": False,
            "address": username,
            **extra,
        }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as connection:
            return connection.recv(64).startswith(b"* OK")
    except OSError:
        return False


@dataclass(frozen=True)
class _Users:
    login: str
    internal: str
    internal_group: str
    mail_uid: int
    mail_gid: int


def _users_for_services() -> _Users:
    """Who the server's processes run as. As root: Dovecot's own unprivileged users (it
    refuses root for logins, internal services and mail); otherwise whoever we are (a
    rootless instance)."""
    if os.geteuid() == 0:
        with contextlib.suppress(KeyError):
            internal = pwd.getpwnam("dovecot")
            pwd.getpwnam("dovenull")
            return _Users(
                login="dovenull",
                internal="dovecot",
                internal_group=grp.getgrgid(internal.pw_gid).gr_name,
                mail_uid=internal.pw_uid,
                mail_gid=internal.pw_gid,
            )
    me = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return _Users(me, me, group, os.geteuid(), os.getegid())


def dovecot_missing() -> None:
    """Skip (or, where CI requires the services, fail) a test that needs Dovecot."""
    message = f"Dovecot is not installed ({DOVECOT})"
    if os.environ.get("TAWASUL_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session", name="dovecot")
def dovecot_server() -> Iterator[Dovecot]:
    if not DOVECOT.exists():
        dovecot_missing()
    # Its own directory, readable by Dovecot's unprivileged auth process (pytest's temporary
    # directories are private to the test user).
    root = Path(tempfile.mkdtemp(prefix="tawasul-dovecot-"))
    root.chmod(0o755)
    users = _users_for_services()
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir()
        if sub in ("mail", "home"):
            os.chown(root / sub, users.mail_uid, users.mail_gid)
    pool = [
        (f"box{number}-{secrets.token_hex(3)}@moe.example", secrets.token_urlsafe(12))
        for number in range(USERS)
    ]
    (root / "passwd").write_text(
        "".join(f"{username}:{{PLAIN}}{password}::::::\n" for username, password in pool),
        encoding="utf-8",
    )
    (root / "passwd").chmod(0o644)
    port = _free_port()
    (root / "dovecot.conf").write_text(
        _CONFIG.format(
            root=root,
            host=HOST,
            port=port,
            uid=users.mail_uid,
            gid=users.mail_gid,
            login_user=users.login,
            internal_user=users.internal,
            internal_group=users.internal_group,
        ),
        encoding="utf-8",
    )
    process = subprocess.Popen(  # noqa: S603 (a fixed binary, our own config)
        [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                log = (
                    (root / "dovecot.log").read_text(errors="replace")[-2000:]
                    if (root / "dovecot.log").exists()
                    else ""
                )
                stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
                pytest.fail(f"Dovecot did not start:\n{stderr}\n{log}")
            time.sleep(0.1)
        yield Dovecot(host=HOST, port=port, root=root, pool=pool[::-1])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stderr:
            process.stderr.close()
        shutil.rmtree(root, ignore_errors=True)
