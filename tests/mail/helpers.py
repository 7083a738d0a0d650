"""Building customer e-mails and a Maildir / config.toml the way a mail host would."""

from __future__ import annotations

import itertools
import mailbox
import os
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

_seq = itertools.count(1)


def message(
    sender: str,
    subject: str,
    body: str = "Bom dia, o sistema parou.",
    *,
    to: str = "suporte@medisoft.example",
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: dict[str, str] | None = None,
    attach: tuple[str, bytes] | None = None,
    message_id: str | None = "auto",
) -> EmailMessage:
    from datetime import UTC, datetime

    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 3, 9, 13, 0, tzinfo=UTC))
    if message_id == "auto":
        msg["Message-ID"] = make_msgid(idstring=f"t{next(_seq)}", domain="client.example")
    elif message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = references or in_reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    if attach:
        msg.add_attachment(attach[1], maintype="application", subtype="pdf", filename=attach[0])
    return msg


def bounce(to: str, original: EmailMessage) -> EmailMessage:
    """A delivery-status notification (RFC 3464) as Postfix sends it."""
    msg = EmailMessage()
    msg["From"] = "MAILER-DAEMON@mx.client.example"
    msg["To"] = to
    msg["Subject"] = f"Undelivered Mail Returned to Sender: {original['Subject']}"
    msg["Message-ID"] = make_msgid(idstring=f"dsn{next(_seq)}", domain="mx.client.example")
    msg.set_content("This is the mail system at host mx.client.example.")
    msg.make_mixed()
    msg.set_type("multipart/report")
    msg.set_param("report-type", "delivery-status")
    status = EmailMessage()
    status.set_content("Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; x\nAction: failed\n")
    msg.attach(status)
    return msg


def maildir(root: Path) -> mailbox.Maildir:
    return mailbox.Maildir(str(root), create=True)


def deliver(box: mailbox.Maildir, *msgs: EmailMessage) -> None:
    for msg in msgs:
        box.add(mailbox.MaildirMessage(msg))


def counts(root: Path) -> tuple[int, int]:
    """(messages in new/, messages in cur/)."""
    return len(os.listdir(root / "new")), len(os.listdir(root / "cur"))


def write_config(home: Path, text: str, monkeypatch: Any) -> Path:
    path = home / "deskctl.toml"
    path.write_text(text)
    monkeypatch.setenv("DESKCTL_CONFIG", str(path))
    return path


def maildir_config(root: Path, **extra: Any) -> str:
    lines = ["[mailboxes.support]", f'maildir = "{root}"',
             'address = "suporte@medisoft.example"']
    lines += [f'{k} = "{v}"' for k, v in extra.items()]
    return "\n".join(lines) + "\n"


def outbox(data_dir: Path) -> list[Any]:
    """Messages deskctl delivered into its Maildir outbox (no SMTP configured)."""
    import email
    import email.policy

    box = mailbox.Maildir(str(data_dir / "outbox"), create=True)
    parsed = [email.message_from_bytes(box.get_bytes(k), policy=email.policy.default)
              for k in box.iterkeys()]
    return sorted(parsed, key=lambda m: str(m["X-Deskctl-Key"]))
