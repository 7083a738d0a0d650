"""Where incoming mail comes from (``[mailboxes.NAME]`` in config.toml), and ``mail fetch``.

A mailbox is either a local Maildir (``maildir = "/var/mail/support"``, where
fetchmail, mbsync or Postfix deliver) or an IMAP folder::

    [mailboxes.medisoft]
    imap_host = "imap.medisoft.com.br"   # TLS on port 993 unless tls = false
    # imap_port = 993, tls = true, starttls = false (with tls = false: STARTTLS on 143)
    username = "suporte@medisoft.com.br"
    password_command = "pass show mail/suporte"   # or the keyring (service deskctl-imap)
    folder = "INBOX"
    move_to = "deskctl/done"   # optional: move handled mail there instead of flagging \\Seen
    address = "suporte@medisoft.com.br"           # our address: mail from it is a loop
    policy = "medisoft"     # only contacts of this policy's customers open tickets
    customer = "clinica-x"  # the customer of a contact known to several

:func:`fetch` takes each new message (Maildir ``new/``; IMAP messages without
``\\Seen``), hands it to :func:`deskctl.services.inbox.handle` in its own write
transaction, and only after the commit marks it (moved to ``cur/`` with the ``S``
flag; ``\\Seen`` or moved on the server). A message found in the ledger is only
marked. Several fetches may run at once: the ledger's unique key lets one of them
do a message, and the others find it done.

Passwords are never in config.toml: ``password_command`` is run (through the shell,
as msmtp's ``passwordeval``) and its first output line is the password; without it
the system keyring is asked (service ``deskctl-imap``).
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from deskctl.credentials import run_password_command
from deskctl.errors import BadInput, Refused
from deskctl.services import inbox
from deskctl.store import db

KEYRING_IMAP = "deskctl-imap"
BOX_KEYS = (
    "maildir",
    "imap_host",
    "imap_port",
    "tls",
    "starttls",
    "username",
    "password_command",
    "folder",
    "move_to",
    "address",
    "policy",
    "customer",
    "timeout",
)


@dataclass(frozen=True)
class BoxConfig:
    name: str
    maildir: Path | None = None
    host: str | None = None
    port: int = 993
    tls: bool = True
    starttls: bool = False
    username: str | None = None
    password_command: str | None = None
    folder: str = "INBOX"
    move_to: str | None = None
    address: str | None = None
    policy: str | None = None
    customer: str | None = None
    timeout: float = 60.0

    def describe(self) -> str:
        if self.maildir is not None:
            return f"maildir {self.maildir}"
        mode = "tls" if self.tls else ("starttls" if self.starttls else "plain")
        user = f"{self.username}@" if self.username else ""
        return f"imap://{user}{self.host}:{self.port}/{self.folder} ({mode})"

    def keyring_key(self) -> str:
        return f"{self.username or ''}@{self.host}:{self.port}"


def _fail(name: str, key: str, problem: str) -> BadInput:
    return BadInput(f"config: mailboxes.{name}.{key}: {problem}")


def mailboxes(cfg: dict[str, Any] | None = None) -> dict[str, BoxConfig]:
    """Every ``[mailboxes.NAME]`` table, validated (a bad key names its path)."""
    if cfg is None:
        from deskctl.config import config

        cfg = config()
    tables = cfg.get("mailboxes") or {}
    if not isinstance(tables, dict):
        raise BadInput("config: [mailboxes] must hold one table per mailbox")
    return {name: _box(name, t) for name, t in tables.items()}


def _box(name: str, t: Any) -> BoxConfig:
    if not isinstance(t, dict):
        raise BadInput(f"config: mailboxes.{name} must be a table")
    if "password" in t:
        raise _fail(name, "password", "never write a password here: use password_command")
    for key in t:
        if key not in BOX_KEYS:
            raise _fail(name, key, f"unknown key (one of {', '.join(BOX_KEYS)})")
    if bool(t.get("maildir")) == bool(t.get("imap_host")):
        raise BadInput(f"config: mailboxes.{name}: give either maildir or imap_host")
    text = {
        k: _text(name, k, t[k]) for k in t if k not in ("imap_port", "tls", "starttls", "timeout")
    }
    tls = _flag(name, t, "tls", True)
    starttls = _flag(name, t, "starttls", False)
    port = t.get("imap_port", 993 if tls else 143)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise _fail(name, "imap_port", f"must be a port number, not {port!r}")
    timeout = t.get("timeout", 60)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise _fail(name, "timeout", f"must be a number of seconds, not {timeout!r}")
    maildir = Path(text["maildir"]).expanduser() if text.get("maildir") else None
    return BoxConfig(
        name=name,
        maildir=maildir,
        host=text.get("imap_host"),
        port=port,
        tls=tls,
        starttls=starttls,
        username=text.get("username"),
        password_command=text.get("password_command"),
        folder=text.get("folder") or "INBOX",
        move_to=text.get("move_to"),
        address=(text.get("address") or "").lower() or None,
        policy=text.get("policy"),
        customer=text.get("customer"),
        timeout=float(timeout),
    )


def _text(name: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(name, key, f"must be a string, not {value!r}")
    return value.strip()


def _flag(name: str, t: dict[str, Any], key: str, default: bool) -> bool:
    value = t.get(key, default)
    if not isinstance(value, bool):
        raise _fail(name, key, f"must be true or false, not {value!r}")
    return value


# -- secrets --------------------------------------------------------------------------


def imap_password(box: BoxConfig) -> str | None:
    if box.password_command:
        return run_password_command(box.password_command, f"mailbox {box.name}")
    try:
        import keyring

        return keyring.get_password(KEYRING_IMAP, box.keyring_key())
    except Exception:  # no keyring backend on a headless host: no password
        return None


# -- sources --------------------------------------------------------------------------


class Source(Protocol):
    name: str

    def messages(self) -> Iterator[tuple[Any, bytes]]: ...

    def done(self, ref: Any) -> None: ...

    def close(self) -> None: ...


_UNIQUE = re.compile(r"(\d+)\.([^.]*)")
_PART = re.compile(r"([MQ])(\d+)")


def delivery_order(name: str) -> tuple[float, int, int, str]:
    """A Maildir file's place in delivery order: its name's seconds, then the ``M``
    microseconds and ``Q`` count of its unique part (``1767000000.M5001P42Q3.host``).
    Plain name order is wrong there: delivery agents (Python's ``mailbox``, Dovecot)
    do not zero-pad the microseconds, so ``M99999`` sorts after ``M100000``. A name
    of another shape comes after, in name order."""
    found = _UNIQUE.match(name)
    if found is None:
        return (math.inf, 0, 0, name)
    parts = {key: int(value) for key, value in _PART.findall(found.group(2))}
    return (int(found.group(1)), parts.get("M", -1), parts.get("Q", -1), name)


class MaildirSource:
    """``new/`` in name order; a handled message moves to ``cur/`` flagged seen (``:2,S``)."""

    def __init__(self, root: Path) -> None:
        if not (root / "new").is_dir() or not (root / "cur").is_dir():
            raise BadInput(f"{root} is not a Maildir (no new/ and cur/)")
        self.root = root
        self.name = f"maildir {root}"

    def messages(self) -> Iterator[tuple[Any, bytes]]:
        for name in sorted(os.listdir(self.root / "new"), key=delivery_order):
            if name.startswith("."):
                continue
            path = self.root / "new" / name
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                continue  # another fetch moved it meanwhile
            yield name, raw

    def done(self, ref: Any) -> None:
        base = str(ref).split(":2,")[0]
        with contextlib.suppress(FileNotFoundError):  # another fetch moved it first
            os.rename(self.root / "new" / str(ref), self.root / "cur" / f"{base}:2,S")

    def close(self) -> None:
        return None


class ImapSource:
    """One IMAP folder: messages without ``\\Seen``, fetched with BODY.PEEK (unflagged)."""

    BATCH = 100

    def __init__(self, box: BoxConfig) -> None:
        import imapclient

        self.box = box
        self.name = box.describe()
        try:
            client = imapclient.IMAPClient(
                box.host,
                port=box.port,
                ssl=box.tls,
                timeout=box.timeout,
                ssl_context=_ssl_context(),
            )
            if box.starttls and not box.tls:
                client.starttls(_ssl_context())
            if box.username:
                client.login(box.username, imap_password(box) or "")
            client.select_folder(box.folder)
        except Refused:
            raise
        except Exception as exc:
            raise Refused(f"{self.name}: {_one_line(exc)}") from None
        self.client = client

    def messages(self) -> Iterator[tuple[Any, bytes]]:
        uids = sorted(self.client.search(["NOT", "SEEN"]))
        for start in range(0, len(uids), self.BATCH):
            chunk = uids[start : start + self.BATCH]
            fetched = self.client.fetch(chunk, ["BODY.PEEK[]"])
            for uid in chunk:
                data = fetched.get(uid)
                if data and b"BODY[]" in data:
                    yield uid, data[b"BODY[]"]

    def done(self, ref: Any) -> None:
        if self.box.move_to:
            self.client.move([ref], self.box.move_to)
        else:
            self.client.add_flags([ref], [b"\\Seen"])

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the connection may be gone already
            self.client.logout()


def _ssl_context() -> Any:
    """The system's trust store; DESKCTL_IMAP_CAFILE adds a CA (a test server's)."""
    import ssl

    cafile = os.environ.get("DESKCTL_IMAP_CAFILE")
    return ssl.create_default_context(cafile=cafile or None)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())[:300]


def open_source(box: BoxConfig) -> Source:
    if box.maildir is not None:
        return MaildirSource(box.maildir)
    return ImapSource(box)


# -- fetch ----------------------------------------------------------------------------


@dataclass
class FetchReport:
    mailbox: str
    source: str
    counts: dict[str, int] = field(default_factory=dict)
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, effect: str, item: dict[str, Any]) -> None:
        self.counts[effect] = self.counts.get(effect, 0) + 1
        self.items.append(item)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "mailbox": self.mailbox,
            "source": self.source,
            "total": self.total,
            "counts": dict(sorted(self.counts.items())),
            "messages": self.items,
        }


def own_addresses(box: BoxConfig, boxes: dict[str, BoxConfig]) -> tuple[str, ...]:
    from deskctl.services import mail

    found = {b.address for b in boxes.values() if b.address}
    found.add(mail.sender_address().lower())
    if box.address:
        found.add(box.address)
    return tuple(sorted(found))


def fetch(
    engine: Engine,
    box: BoxConfig,
    *,
    now: Callable[[], datetime],
    own: tuple[str, ...] = (),
    source: Source | None = None,
    limit: int | None = None,
    after_commit: Callable[[inbox.Result], None] | None = None,
) -> FetchReport:
    """Handle every new message of one mailbox (module doc); one transaction each."""
    src = source or open_source(box)
    report = FetchReport(box.name, src.name)
    target = inbox.Mailbox(box.name, customer=box.customer, policy=box.policy, own=own)
    try:
        for ref, raw in src.messages():
            if limit is not None and report.total >= limit:
                break
            result = _handle_one(engine, raw, target, now())
            if after_commit is not None:
                after_commit(result)
            src.done(ref)  # only now: the effect and its ledger row are committed
            report.add(result.effect, {"ref": str(ref), **result.to_json()})
    finally:
        src.close()
    return report


def _handle_one(engine: Engine, raw: bytes, target: inbox.Mailbox, at: datetime) -> inbox.Result:
    from deskctl.errors import Conflict, DeskctlError, StoreUnavailable

    problem = ""
    for _attempt in (1, 2, 3):
        try:
            with db.session(engine, write=True) as s:
                return inbox.handle(s, raw, target, now=at)
        except IntegrityError:
            with db.session(engine) as s:
                if inbox.already(s, inbox.parse(raw).key):
                    return inbox.Result("duplicate")  # a concurrent fetch did it first
            raise
        except Conflict as exc:  # the ticket moved meanwhile: read it again
            problem = exc.message
        except StoreUnavailable:
            raise
        except (DeskctlError, ValueError) as exc:
            problem = exc.message if isinstance(exc, DeskctlError) else str(exc)
            break
    # a message no rule can place is kept for a person, never lost or retried forever
    with db.session(engine, write=True) as s:
        return inbox.hold(s, raw, target, now=at, reason=f"could not be handled: {problem}")
