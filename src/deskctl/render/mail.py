"""Outgoing mail as an engineer reads it: headers, then the text the customer gets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deskctl.clock import iso_z
from deskctl.render.output import emit_text, safe_text

_HEADERS = (
    ("From", "from"),
    ("To", "recipient"),
    ("Reply-To", "reply_to"),
    ("Subject", "subject"),
    ("In-Reply-To", "in_reply_to"),
)


def print_mail(doc: Mapping[str, Any]) -> None:
    lines = [f"{name}: {safe_text(doc[key])}" for name, key in _HEADERS if doc.get(key)]
    sent = doc.get("sent_at")
    state = f"sent {iso_z(sent)}" if sent else str(doc["status"])
    lines.append(f"Status: {state} (ticket #{doc['ticket']}, {doc['attempts']} attempt(s))")
    lines += ["", safe_text(doc["body"], newlines=True).rstrip()]
    emit_text("\n".join(lines))
