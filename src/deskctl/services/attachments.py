"""Attachments live in the store: content by sha256 (deduplicated), metadata per ticket.

So every member of a team reads what a colleague attached, ``db backup`` holds
it, and a ticket moves between stores whole. ``store`` is the one way in: ticket
open and mail fetch both call it. Attachments written as files before migration
0009 (``attachment.stored_path``, no blob) are still read from their file.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from deskctl.errors import NotFound
from deskctl.store.models import Attachment, AttachmentBlob


@dataclass(frozen=True)
class AttachmentIn:
    """An attachment to store: read fully before anything is written."""

    filename: str
    content: bytes
    content_type: str | None = None


def sanitize_filename(name: str) -> str:
    """A safe file name: no directories, no hidden files, plain characters only."""
    base = unicodedata.normalize("NFC", re.split(r"[\\/]", name)[-1])
    # letters of any script stay (relatório.pdf); spaces, controls and symbols do not
    base = re.sub(r"[^\w.-]+", "_", base).strip("._") or "attachment"
    stem, dot, ext = base.rpartition(".")
    if dot and len(base) > 120:
        return stem[: 119 - len(ext)] + "." + ext
    return base[:120]


def store(
    session: Session, ticket_id: int, files: Sequence[AttachmentIn], now: datetime
) -> list[Attachment]:
    """Attach ``files`` to the ticket in this transaction; names are made safe and unique."""
    taken = {a.filename for a in list_for(session, ticket_id)}
    rows = []
    for item in files:
        name = _unique(sanitize_filename(item.filename), taken)
        taken.add(name)
        digest = hashlib.sha256(item.content).hexdigest()
        if session.get(AttachmentBlob, digest) is None:
            session.add(AttachmentBlob(sha256=digest, size=len(item.content), content=item.content))
        row = Attachment(
            ticket_id=ticket_id,
            filename=name,
            stored_path="",
            size=len(item.content),
            sha256=digest,
            content_type=item.content_type,
            added_at=now,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    n = 2
    while True:
        candidate = f"{stem}-{n}" + (f".{ext}" if ext else "")
        if candidate not in taken:
            return candidate
        n += 1


def list_for(session: Session, ticket_id: int) -> list[Attachment]:
    stmt = (
        select(Attachment)
        .where(col(Attachment.ticket_id) == ticket_id)
        .order_by(col(Attachment.id))
    )
    return list(session.execute(stmt).scalars())


def content(session: Session, ticket_id: int, name: str) -> tuple[Attachment, bytes]:
    """The attachment called ``name`` on the ticket and its bytes, checked against its sha256."""
    row = next((a for a in list_for(session, ticket_id) if a.filename == name), None)
    if row is None:
        raise NotFound(f"ticket {ticket_id} has no attachment {name!r}")
    blob = session.get(AttachmentBlob, row.sha256)
    data = blob.content if blob is not None else _legacy(row)
    if hashlib.sha256(data).hexdigest() != row.sha256:
        raise NotFound(f"attachment {name!r} of ticket {ticket_id} is damaged (sha256 differs)")
    return row, data


def _legacy(row: Attachment) -> bytes:
    try:
        return Path(row.stored_path).read_bytes()
    except OSError:
        raise NotFound(
            f"attachment {row.filename!r} was stored as a file before 0009 and {row.stored_path} "
            "is not readable here"
        ) from None
