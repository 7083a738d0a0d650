"""Benchmark: `mail fetch` of many messages from a Maildir and from a real IMAP server.

A fresh store (Medisoft example policy, 50 customers with one contact each, a
maintenance contract) and a mailbox holding, in delivery order: new requests from
known contacts (30 %: each opens a ticket and queues its acknowledgement), replies
carrying a ticket's ``[#ID]`` subject token (50 %), out-of-office auto-replies
(10 %) and mail from strangers (10 %, quarantined). One ``fetch`` handles them all,
one write transaction per message; a second fetch finds nothing new.

Usage::

    python benchmarks/bench_mail.py [--maildir 10000] [--imap 1000]

``--imap 0`` skips the IMAP run (it starts a throwaway Dovecot, as the tests do).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
CUSTOMERS = 50


def seed(engine) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    from deskctl.services import masterdata, policies
    from deskctl.store import db

    db.upgrade(engine)
    text = (ROOT / "examples" / "medisoft.toml").read_text()
    with db.session(engine, write=True) as s:
        policies.load(s, text, source="medisoft.toml", actor="bench", now=NOW)
        for i in range(CUSTOMERS):
            key = f"c{i:02d}"
            masterdata.add_customer(s, key, name=f"Clínica {i}", country="BR", vat_rate=None,
                                    policy=None, now=NOW)
            masterdata.add_contact(s, key, f"ana{i}@c{i}.example", name=f"Ana {i}", named=True,
                                   now=NOW, actor="bench")
            masterdata.add_contract(s, key, plan="maintenance", start=date(2026, 1, 1), end=None,
                                    activated=None, license_issued=None, products=(),
                                    policy_name=None, consultancy_hours=None, now=NOW)


def messages(n: int) -> list[bytes]:
    requests = max(1, n * 3 // 10)
    out = []
    for i in range(n):
        msg = EmailMessage()
        c = i % CUSTOMERS
        sender = f"ana{c}@c{c}.example"
        if i < requests:
            subject = f"Pedido {i}: o PACS não abre"
        elif i < n * 8 // 10:
            ticket = (i % requests) + 1  # opened by request ticket-1, of its customer
            c = (ticket - 1) % CUSTOMERS
            sender, subject = f"ana{c}@c{c}.example", f"Re: [#{ticket}] mais informações"
        elif i < n * 9 // 10:
            subject = "Ausente do escritório"
            msg["Auto-Submitted"] = "auto-replied"
        else:
            sender, subject = f"stranger{i}@elsewhere.example", "Oferta imperdível"
        msg["From"] = sender
        msg["To"] = "suporte@medisoft.example"
        msg["Subject"] = subject
        msg["Message-ID"] = f"<bench{i}@c{c}.example>"
        msg.set_content(f"Mensagem {i}.\n\nEm seg., 9 de mar., Suporte escreveu:\n> antigo\n")
        out.append(msg.as_bytes())
    return out


def run(box, engine, data: Path) -> tuple[float, dict]:  # type: ignore[no-untyped-def]
    from deskctl.services import mail_sources

    clock = iter(NOW + timedelta(seconds=i) for i in range(10**7))
    start = time.perf_counter()
    report = mail_sources.fetch(engine, box, now=lambda: next(clock),
                                attachments_dir=data / "attachments",
                                own=("suporte@medisoft.example",))
    elapsed = time.perf_counter() - start
    again = mail_sources.fetch(engine, box, now=lambda: next(clock),
                               attachments_dir=data / "attachments")
    assert again.total == 0, again.counts
    return elapsed, report.counts


def fresh(tmp: Path, name: str):  # type: ignore[no-untyped-def]
    from deskctl.store import db

    os.environ["DESKCTL_DATA_DIR"] = str(tmp / name)
    engine = db.get_engine(f"sqlite:///{tmp / name}.db")
    seed(engine)
    return engine


def bench_maildir(n: int, tmp: Path) -> None:
    from deskctl.services.mail_sources import BoxConfig

    engine = fresh(tmp, "maildir")
    root = tmp / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True)
    for i, raw in enumerate(messages(n)):
        (root / "new" / f"{i:08d}.bench").write_bytes(raw)
    elapsed, counts = run(BoxConfig("bench", maildir=root), engine, tmp / "maildir")
    print(f"maildir: {n:,} messages in {elapsed:.1f} s ({n / elapsed:,.0f}/s, "
          f"{elapsed / n * 1000:.1f} ms each): {counts}")


def bench_imap(n: int, tmp: Path) -> None:
    from deskctl.services.mail_sources import BoxConfig
    from tests.mail.dovecot import PASSWORD, USER, Dovecot

    server = Dovecot()
    server.start()
    try:
        os.environ["DESKCTL_IMAP_CAFILE"] = str(server.cafile)
        with server.client() as c:
            for raw in messages(n):
                c.append("INBOX", raw)
        secret = tmp / "pw"
        secret.write_text(PASSWORD + "\n")
        box = BoxConfig("bench", host="127.0.0.1", port=server.port, username=USER,
                        password_command=f"cat {secret}")
        engine = fresh(tmp, "imap")
        elapsed, counts = run(box, engine, tmp / "imap")
        print(f"imap:    {n:,} messages in {elapsed:.1f} s ({n / elapsed:,.0f}/s, "
              f"{elapsed / n * 1000:.1f} ms each): {counts}")
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maildir", type=int, default=10_000)
    parser.add_argument("--imap", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deskctl-bench-mail-") as tmp:
        if args.maildir:
            bench_maildir(args.maildir, Path(tmp))
        if args.imap:
            bench_imap(args.imap, Path(tmp))


if __name__ == "__main__":
    main()
