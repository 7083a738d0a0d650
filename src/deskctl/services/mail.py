"""Outgoing e-mail: the outbox table, SMTP or a Maildir, delivered after the commit.

A message is created in the same transaction as the step that wants it sent (an
``outbox_message`` row with a unique key), and delivered later by
:func:`deliver_pending`, which every sweep runs after its own transactions:

1. claim the row for a lease (``claimed_at``/``claimed_by``, a short write
   transaction): a second sweep running at the same time skips a claimed row;
2. hand the message to the server (no transaction open meanwhile);
3. mark it sent (``sent_at``) in its own transaction, only after the server
   accepted it. A failure keeps the row pending (``attempts`` + 1,
   ``last_error``) and the next sweep retries it: never lost.

The one window left is a crash between 2 and 3: the server has the message but
the row still says pending, so after the lease (:data:`LEASE_SECONDS`) it is sent
again. Every message carries a ``Message-ID`` derived from its key, so such a
duplicate is the same message to any mail client or server that deduplicates
(at-least-once, recognisable). The Maildir fallback has no such window: the file
name is derived from the key too and an existing file means "already delivered".

Settings (``[smtp]`` in config.toml): ``host``, ``port`` (default 587, 465 with
``ssl``), ``starttls`` (default true unless ``ssl``), ``ssl``, ``username``,
``from``, ``timeout`` (seconds, default 30), ``password_command``. The password is
never in the file: ``password_command`` prints it (its first line is used: ``pass
show mail/desk``), or ``deskctl mail login`` puts it in the system keyring. Without
an ``[smtp]`` host, messages are written into the Maildir ``<data dir>/outbox``
(``new/``), which any mail reader opens.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import smtplib
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Engine, func, or_, select, update
from sqlmodel import Session, col

from deskctl import files
from deskctl.errors import BadInput, DeskctlError, NotFound, Refused, notice
from deskctl.store import db
from deskctl.store.models import OutboxMessage, table_of

KEYRING_SERVICE = "deskctl-smtp"
LEASE_SECONDS = 600  # a claimed message is left alone this long (a sweep died meanwhile)
DEFAULT_FROM = "deskctl@localhost"


# -- settings and secrets -------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str | None = None
    sender: str = DEFAULT_FROM
    timeout: float = 30.0
    password_command: str | None = None

    def keyring_key(self) -> str:
        return f"{self.username or ''}@{self.host}:{self.port}"

    def describe(self) -> str:
        mode = "ssl" if self.ssl else ("starttls" if self.starttls else "plain")
        user = f"{self.username}@" if self.username else ""
        return f"smtp://{user}{self.host}:{self.port} ({mode})"


def smtp_settings(cfg: dict[str, Any] | None = None) -> SmtpSettings | None:
    """The ``[smtp]`` table of the config file; None when no host is configured."""
    if cfg is None:
        from deskctl.config import config

        cfg = config()
    table = cfg.get("smtp") or {}
    if not isinstance(table, dict):
        raise BadInput("config: [smtp] must be a table")
    host = table.get("host")
    if not host:
        return None
    ssl = _flag(table, "ssl", False)
    port = table.get("port", 465 if ssl else 587)
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise BadInput(f"config: smtp.port must be a port number, not {port!r}")
    timeout = table.get("timeout", 30)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise BadInput(f"config: smtp.timeout must be a number of seconds, not {timeout!r}")
    return SmtpSettings(
        host=str(host),
        port=port,
        starttls=_flag(table, "starttls", not ssl),
        ssl=ssl,
        username=str(table["username"]) if table.get("username") else None,
        sender=str(table.get("from") or DEFAULT_FROM),
        timeout=float(timeout),
        password_command=_password_command(table),
    )


def _password_command(table: dict[str, Any]) -> str | None:
    if "password" in table:
        raise BadInput("config: smtp.password: never write a password here: use password_command")
    value = table.get("password_command")
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadInput("config: smtp.password_command must be a command line")
    return value.strip()


def _flag(table: dict[str, Any], name: str, default: bool) -> bool:
    value = table.get(name, default)
    if not isinstance(value, bool):
        raise BadInput(f"config: smtp.{name} must be true or false, not {value!r}")
    return value


def sender_address() -> str:
    settings = smtp_settings()
    if settings is not None:
        return settings.sender
    from deskctl.config import config

    table = config().get("smtp") or {}
    return str(table.get("from") or DEFAULT_FROM) if isinstance(table, dict) else DEFAULT_FROM


def store_password(settings: SmtpSettings, password: str) -> None:
    """Put the SMTP password in the system keyring (``deskctl mail login``), or refuse."""
    from deskctl import keyring_secrets

    keyring_secrets.save(
        KEYRING_SERVICE, settings.keyring_key(), password, instead=keyring_secrets.SMTP_HINT
    )


def smtp_password(settings: SmtpSettings) -> str | None:
    """``password_command``'s first line, else the keyring; a headless machine without
    either gets one line on stderr and no password."""
    if not settings.username:
        return None
    if settings.password_command:
        from deskctl.credentials import run_password_command

        return run_password_command(settings.password_command, "smtp")
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, settings.keyring_key())
    except Exception as exc:  # no backend on a headless machine: try without, never crash
        notice(f"keyring unavailable ({type(exc).__name__}); sending without a password")
        return None


# -- messages -------------------------------------------------------------------------


def message_id(key: str, sender: str) -> str:
    """The same Message-ID for the same outbox key, however often it is sent."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{digest}.deskctl@{domain}>"


UNSENDABLE = "unsendable: "  # last_error prefix of a message that cannot be sent as it is


def header_value(text: str) -> str:
    """One header line: CR, LF and every other control character become a space, so a
    title like ``'Inj\r\nBcc: x'`` can never add a header."""
    return " ".join(_CONTROL.sub(" ", text).split())


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]")


def author(row: OutboxMessage, sender: str) -> str:
    """The From address: ``[smtp] from``, else the policy's support address (the
    Reply-To), never a host name the customer's mail server distrusts and cannot answer."""
    return row.reply_to if sender == DEFAULT_FROM and row.reply_to else sender


def build_message(row: OutboxMessage, sender: str, now: datetime) -> EmailMessage:
    msg = EmailMessage()
    sender = author(row, sender)
    msg["From"] = header_value(sender)
    msg["To"] = header_value(row.recipient)
    msg["Subject"] = header_value(row.subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = header_value(row.message_id or message_id(row.key, sender))
    if row.in_reply_to:
        msg["In-Reply-To"] = header_value(row.in_reply_to)
    if row.thread_refs:
        msg["References"] = header_value(row.thread_refs)
    msg["Reply-To"] = header_value(row.reply_to or sender)
    if row.automatic:
        # RFC 3834: the customer's auto-responder must not answer this message
        msg["Auto-Submitted"] = "auto-generated"
    msg["X-Deskctl-Key"] = header_value(row.key)
    if row.ticket_id is not None:
        msg["X-Deskctl-Ticket"] = str(row.ticket_id)
    msg.set_content(row.body)
    if row.html:
        msg.add_alternative(row.html, subtype="html")
    return msg


def enqueue(
    session: Session,
    *,
    key: str,
    recipient: str,
    subject: str,
    body: str,
    now: datetime,
    ticket_id: int | None = None,
    html: str | None = None,
    in_reply_to: str | None = None,
    thread_refs: str | None = None,
    reply_to: str | None = None,
    automatic: bool = True,
) -> None:
    """Add a message to the outbox (in the caller's transaction); the key is unique.

    The Message-ID is fixed now, so a reply to it finds the ticket (services.inbox).
    """
    from sqlalchemy import insert

    session.execute(
        insert(table_of(OutboxMessage)).values(
            key=key,
            ticket_id=ticket_id,
            recipient=recipient,
            subject=header_value(subject)[:300],
            body=body,
            created_at=now,
            attempts=0,
            message_id=message_id(key, sender_address()),
            html=html,
            in_reply_to=in_reply_to,
            thread_refs=thread_refs,
            reply_to=reply_to,
            automatic=automatic,
        )
    )


# -- transports -----------------------------------------------------------------------


class Transport(Protocol):
    name: str

    def send(self, msg: EmailMessage) -> None: ...

    def close(self) -> None: ...


class TransportDown(Exception):
    """The server cannot be reached at all: stop trying for this run."""


class SmtpTransport:
    """One connection for the whole run, opened on the first message."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self.name = settings.describe()
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        try:
            conn: smtplib.SMTP
            if s.ssl:
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout)
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            if s.starttls and not s.ssl:
                conn.starttls()
            password = smtp_password(s)
            if s.username and password:
                conn.login(s.username, password)
        except (OSError, smtplib.SMTPException) as exc:
            raise TransportDown(f"{self.name}: {_one_line(exc)}") from None
        except Refused as exc:  # the password command failed: the outbox waits
            raise TransportDown(f"{self.name}: {exc.message}") from None
        return conn

    def send(self, msg: EmailMessage) -> None:
        if self._conn is None:
            self._conn = self._connect()
        try:
            self._conn.send_message(msg)
        except smtplib.SMTPServerDisconnected as exc:
            self._conn = None
            raise TransportDown(f"{self.name}: {_one_line(exc)}") from None
        except smtplib.SMTPException:
            raise  # this message only (a refused recipient, a rejected body...)
        except OSError as exc:  # the connection broke (SMTPException is an OSError too)
            self._conn = None
            raise TransportDown(f"{self.name}: {_one_line(exc)}") from None

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._conn.quit()
            self._conn = None


class MaildirTransport:
    """Messages as files in a Maildir; the file name comes from the Message-ID.

    A message already in ``new/`` (or moved to ``cur/`` by a reader) is not
    written again, which makes this transport exactly-once.
    """

    def __init__(self, root: Path) -> None:
        import mailbox

        self.root = root
        self.name = f"maildir {root}"
        files.private_dir(root.parent)
        mailbox.Maildir(str(root), create=True)  # tmp/, new/, cur/ (0700)

    def send(self, msg: EmailMessage) -> None:
        digest = hashlib.sha256(str(msg["Message-ID"]).encode()).hexdigest()[:32]
        name = f"deskctl.{digest}"
        if (self.root / "new" / name).exists() or any((self.root / "cur").glob(f"{name}:*")):
            return
        tmp = self.root / "tmp" / f"{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        try:
            files.write_bytes(tmp, msg.as_bytes(), what="outbox")  # owner-only, on disk
        except DeskctlError as exc:  # a full disk stops this run; the next one retries
            raise TransportDown(f"{self.name}: {exc.message}") from None
        try:
            os.link(tmp, self.root / "new" / name)
        except FileExistsError:
            pass  # a concurrent writer delivered the same message
        finally:
            tmp.unlink(missing_ok=True)

    def close(self) -> None:
        return None


def default_transport() -> Transport:
    settings = smtp_settings()
    if settings is not None:
        return SmtpTransport(settings)
    from deskctl.config import paths

    return MaildirTransport(paths().outbox)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, smtplib.SMTPRecipientsRefused) and exc.recipients:
        code, reply = next(iter(exc.recipients.values()))
        text = f"{code} {_text(reply)}"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, socket.timeout | TimeoutError):
        text = "timed out"
    return " ".join(text.split())[:300]


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


# -- delivery -------------------------------------------------------------------------


@dataclass
class Delivery:
    id: int
    key: str
    ticket: int | None
    recipient: str
    ok: bool
    error: str | None = None

    @property
    def unsendable(self) -> bool:
        """Failed for what the message is, not for the server: retrying will not help."""
        return bool(self.error and self.error.startswith(UNSENDABLE))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "ticket": self.ticket,
            "recipient": self.recipient,
            "sent": self.ok,
            "error": self.error,
        }


@dataclass
class DeliveryReport:
    transport: str
    deliveries: list[Delivery] = field(default_factory=list)
    pending: int = 0  # still pending after this run
    stopped: str | None = None  # why delivery stopped early (server down)

    @property
    def sent(self) -> int:
        return sum(1 for d in self.deliveries if d.ok)

    @property
    def failed(self) -> int:
        return sum(1 for d in self.deliveries if not d.ok)

    @property
    def unsendable(self) -> int:
        return sum(1 for d in self.deliveries if d.unsendable)

    def to_json(self) -> dict[str, Any]:
        return {
            "transport": self.transport,
            "sent": self.sent,
            "failed": self.failed,
            "unsendable": self.unsendable,
            "pending": self.pending,
            "stopped": self.stopped,
            "deliveries": [d.to_json() for d in self.deliveries],
        }


def _sendable(now: datetime) -> Any:
    cutoff = now - timedelta(seconds=LEASE_SECONDS)
    return (
        col(OutboxMessage.sent_at).is_(None),
        or_(col(OutboxMessage.claimed_at).is_(None), col(OutboxMessage.claimed_at) < cutoff),
    )


def pending_ids(session: Session, now: datetime, limit: int | None = None) -> list[int]:
    stmt = select(col(OutboxMessage.id)).where(*_sendable(now)).order_by(col(OutboxMessage.id))
    if limit:
        stmt = stmt.limit(limit)
    return [int(i) for i in session.execute(stmt).scalars()]


def count_pending(session: Session) -> int:
    stmt = (
        select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.sent_at).is_(None))
    )
    return int(session.execute(stmt).scalar_one())


def _claim(engine: Engine, message_id_: int, token: str, now: datetime) -> OutboxMessage | None:
    with db.session(engine, write=True) as s:
        result = s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id_, *_sendable(now))
            .values(claimed_at=now, claimed_by=token)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return s.get(OutboxMessage, message_id_)


def _settle(engine: Engine, message_id_: int, token: str, now: datetime, error: str | None) -> None:
    values: dict[str, Any] = {
        "attempts": OutboxMessage.attempts + 1,
        "claimed_at": None,
        "claimed_by": None,
        "last_error": error,
    }
    if error is None:
        values["sent_at"] = now
    with db.session(engine, write=True) as s:
        s.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == message_id_, col(OutboxMessage.claimed_by) == token)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def deliver_pending(
    engine: Engine,
    *,
    now: datetime,
    transport: Transport | None = None,
    limit: int | None = None,
    sender: str | None = None,
    on_delivery: Callable[[Delivery], None] | None = None,
) -> DeliveryReport:
    """Send every pending message (oldest first); see the module doc for the guarantees."""
    with db.session(engine) as s:
        ids = pending_ids(s, now, limit)
    if not ids:
        with db.session(engine) as s:
            return DeliveryReport(transport="none", pending=count_pending(s))
    transport = transport or default_transport()
    sender = sender or sender_address()
    report = DeliveryReport(transport=transport.name)
    try:
        for mid in ids:
            token = uuid.uuid4().hex
            row = _claim(engine, mid, token, now)
            if row is None:
                continue  # sent or claimed by a sweep running at the same time
            delivery = Delivery(mid, row.key, row.ticket_id, row.recipient, ok=True)
            try:
                transport.send(build_message(row, sender, now))
            except TransportDown as exc:
                delivery.ok, delivery.error = False, str(exc)
                report.stopped = str(exc)
            except (smtplib.SMTPException, OSError) as exc:
                delivery.ok, delivery.error = False, _one_line(exc)
            except Exception as exc:  # this message is malformed: it alone fails, never the run
                delivery.ok, delivery.error = False, UNSENDABLE + _one_line(exc)
            _settle(engine, mid, token, now, delivery.error)
            report.deliveries.append(delivery)
            if on_delivery is not None:
                on_delivery(delivery)
            if report.stopped:
                break
    finally:
        transport.close()
    with db.session(engine) as s:
        report.pending = count_pending(s)
    return report


# -- listing --------------------------------------------------------------------------


def outbox_rows(
    session: Session, *, pending_only: bool = False, limit: int = 100
) -> list[dict[str, Any]]:
    stmt = select(OutboxMessage).order_by(col(OutboxMessage.id).desc())
    if pending_only:
        stmt = stmt.where(col(OutboxMessage.sent_at).is_(None))
    if limit > 0:
        stmt = stmt.limit(limit)
    return [_row_json(r) for r in session.execute(stmt).scalars()]


def outbox_message(session: Session, message_id_: int) -> dict[str, Any]:
    """One outgoing message as it is (or will be) sent: headers and its plain text."""
    row = session.get(OutboxMessage, message_id_)
    if row is None:
        raise NotFound(f"no outgoing message {message_id_} (see deskctl mail outbox)")
    sender = sender_address()
    return {
        **_row_json(row),
        "from": author(row, sender),
        "reply_to": row.reply_to or sender,
        "in_reply_to": row.in_reply_to,
        "automatic": row.automatic,
        "body": row.body,
    }


def _status(row: OutboxMessage) -> str:
    if row.sent_at:
        return "sent"
    if row.claimed_at:
        return "sending"
    return "failed" if (row.last_error or "").startswith(UNSENDABLE) else "pending"


def _row_json(row: OutboxMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "key": row.key,
        "ticket": row.ticket_id,
        "recipient": row.recipient,
        "subject": row.subject,
        "status": _status(row),
        "created_at": row.created_at,
        "sent_at": row.sent_at,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "message_id": row.message_id or message_id(row.key, sender_address()),
    }
