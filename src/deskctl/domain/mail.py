"""Rules of the mail loop that need no I/O: noise, threading tokens, answers by keyword.

What is *noise* (never opens, resumes or answers a ticket), after RFC 3834 and the
habits of real mail servers:

- ``Auto-Submitted`` with any value but ``no`` (auto-replied, auto-generated,
  auto-notified);
- ``Precedence: bulk``, ``junk`` or ``list``;
- ``X-Autoreply``/``X-Autorespond`` present, or ``X-Auto-Response-Suppress`` of
  Microsoft servers' out-of-office replies (``OOF``/``AutoReply``/``All``);
- delivery-status reports: ``multipart/report`` (DSN, MDN), or a message from the
  null sender / ``MAILER-DAEMON``;
- mail from deskctl's own address (a loop through a forwarding rule).

The customer's yes/no keyword: the first non-empty line of the reply, compared
without case, accents or trailing punctuation, against :data:`CONFIRM_WORDS` and
:data:`REJECT_WORDS` of the reader's language (English words are understood from
everyone). Anything else is an ordinary reply that an engineer reads.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

# A ticket's subject token: every outgoing subject carries "[#1234]".
TOKEN = re.compile(r"\[#(\d{1,12})\]")
_MSGID = re.compile(r"<[^<>\s]+>")

CONFIRM_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("yes", "confirmed", "confirm", "solved", "resolved", "it works", "ok"),
    "pt": ("sim", "confirmo", "confirmado", "resolvido", "funcionou", "ok"),
    "es": ("sí", "confirmo", "confirmado", "resuelto", "funciona", "ok"),
    "it": ("sì", "confermo", "confermato", "risolto", "funziona", "ok"),
}
REJECT_WORDS: dict[str, tuple[str, ...]] = {
    "en": ("no", "not solved", "not resolved", "does not work", "reject"),
    "pt": ("não", "não resolvido", "não funcionou", "rejeito"),
    "es": ("no", "no resuelto", "no funciona", "rechazo"),
    "it": ("no", "non risolto", "non funziona", "rifiuto"),
}

# Lines that introduce the quoted previous message, per language (the reply-parser
# library knows en/es/it; Portuguese mail clients are added here).
QUOTE_HEADERS = (
    re.compile(r"^\s*Em .{4,120}escreveu:\s*$", re.IGNORECASE),
    re.compile(r"^\s*On .{4,120}wrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*El .{4,120}escribi[óo]:\s*$", re.IGNORECASE),
    re.compile(r"^\s*Il .{4,120}ha scritto:\s*$", re.IGNORECASE),
    re.compile(
        r"^\s*-{2,}\s*(Original Message|Mensagem original|Mensaje original|"
        r"Messaggio originale)\s*-{2,}\s*$",
        re.IGNORECASE,
    ),
    re.compile(r"^\s*(De|From|Da):\s.+$"),
)


def part_text(part: Any) -> str:
    """The text of a MIME text part, whatever its charset says.

    A part with no charset (or ``us-ascii``) whose bytes are not ASCII was written by a
    mailer that forgot the header: UTF-8 is tried, then Windows-1252 (what such mailers
    send otherwise), so "não" survives instead of becoming replacement characters. An
    unknown charset is read as UTF-8 with replacements: the words survive.
    """
    declared = str(part.get_param("charset") or "").lower()
    raw = part.get_payload(decode=True)
    if isinstance(raw, bytes) and declared in ("", "us-ascii", "ascii") and not raw.isascii():
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", errors="replace")
    try:
        return str(part.get_content())
    except (LookupError, UnicodeError):
        return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw or "")


def norm_msgid(value: str | None) -> str | None:
    """``<abc@host>`` as stored: the first angle-bracketed id, or the bare value."""
    if not value:
        return None
    found = _MSGID.search(value)
    text = found.group(0) if found else value.strip()
    return text[:250] or None


def thread_ids(in_reply_to: str | None, references: str | None) -> list[str]:
    """Message-IDs the message answers, most recent first (In-Reply-To, then References
    from the last)."""
    ids = _MSGID.findall(in_reply_to or "") + list(reversed(_MSGID.findall(references or "")))
    return list(dict.fromkeys(i[:250] for i in ids))


def subject_token(subject: str | None) -> int | None:
    found = TOKEN.search(subject or "")
    return int(found.group(1)) if found else None


def message_key(message_id: str | None, raw: bytes) -> str:
    """The ledger key: the Message-ID, else a digest of the whole message."""
    mid = norm_msgid(message_id)
    if mid:
        return mid
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def noise_reason(
    headers: Mapping[str, str],
    content_type: str,
    sender: str,
    own_addresses: Iterable[str] = (),
) -> str | None:
    """Why the message is noise (see the module doc), or None for a person's mail."""
    get = {k.lower(): (v or "").strip() for k, v in headers.items()}
    auto = get.get("auto-submitted", "").lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"auto-submitted: {auto.split(';')[0].strip()}"
    precedence = get.get("precedence", "").lower()
    if precedence in ("bulk", "junk", "list"):
        return f"precedence: {precedence}"
    for name in ("x-autoreply", "x-autorespond"):
        if name in get:
            return "auto-reply"
    suppress = get.get("x-auto-response-suppress", "").lower()
    if any(word in suppress for word in ("oof", "autoreply", "all")):
        return "auto-reply"
    if content_type.lower() == "multipart/report":
        return "delivery report"
    local = sender.partition("@")[0].lower()
    if not sender or local in ("mailer-daemon", "postmaster"):
        return "delivery report"
    if sender.lower() in {a.lower() for a in own_addresses if a}:
        return "own address"
    return None


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[\s.!,;:]+$", "", " ".join(bare.split()))


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def answer_keyword(text: str, locale: str) -> str | None:
    """``confirm``, ``reject`` or None: what the reply's first line says (module doc)."""
    line = _plain(first_line(text))
    if not line:
        return None
    langs = list(dict.fromkeys([locale.split("-")[0].lower(), "en"]))
    for lang in langs:
        if _matches(line, REJECT_WORDS.get(lang, ())):
            return "reject"
    for lang in langs:
        if _matches(line, CONFIRM_WORDS.get(lang, ())):
            return "confirm"
    return None


def _matches(line: str, words: Iterable[str]) -> bool:
    # "Sim" and "Sim, funcionou" both confirm; "Simples" does not. Words are written as
    # the mail shows them ("não"); a reply is matched without accents ("nao" too).
    plain = (_plain(w) for w in words)
    return any(line == w or re.match(rf"{re.escape(w)}\b", line) for w in plain)


def strip_quoted(text: str) -> str:
    """The new text of a reply: quoted lines and the quoted message's header removed."""
    kept: list[str] = []
    for line in text.splitlines():
        if any(p.match(line) for p in QUOTE_HEADERS):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    while kept and not kept[-1].strip():
        kept.pop()
    return "\n".join(kept).strip()
