"""`deskctl ticket attachment list | get`: attachments are read back from the store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from deskctl.cli._base import CsvOpt, JsonOpt, store_session, sub_app
from deskctl.cli.ticket import ticket_app

attachment_app = sub_app("A ticket's attachments, stored in the database.")
ticket_app.add_typer(attachment_app, name="attachment")


@attachment_app.command("list")
def attachment_list(
    ticket_id: Annotated[int, typer.Argument(help="Ticket id.")],
    json_out: bool = JsonOpt,
    csv_out: bool = CsvOpt,
) -> None:
    """List a ticket's attachments: name, size, sha256."""
    from deskctl.render.output import Column, choose_format, emit_rows
    from deskctl.services import attachments, tickets

    with store_session() as s:
        tickets.get(s, ticket_id)
        rows = [
            {"filename": a.filename, "size": a.size, "sha256": a.sha256,
             "content_type": a.content_type}
            for a in attachments.list_for(s, ticket_id)
        ]
    cols = [Column("filename", "NAME"), Column("size", "BYTES"), Column("sha256", "SHA256")]
    emit_rows(rows, cols, choose_format(json_out=json_out, csv_out=csv_out),
              empty=f"ticket {ticket_id} has no attachments")


@attachment_app.command("get")
def attachment_get(
    ticket_id: Annotated[int, typer.Argument(help="Ticket id.")],
    name: Annotated[str, typer.Argument(help="The attachment's name (ticket attachment list).")],
    output: Annotated[
        str | None,
        typer.Option("-o", "--output", help="Where to write it; default NAME here; - for stdout."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write an attachment's content to a file (never over an existing one without --force)."""
    from deskctl.render.output import say
    from deskctl.services import attachments

    with store_session() as s:
        row, data = attachments.content(s, ticket_id, name)
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    target = Path(output or row.filename)
    _write(target, data, force=force)
    say(f"attachment {row.filename} of ticket {ticket_id} written to {target} ({len(data)} bytes)")


def _write(target: Path, data: bytes, *, force: bool) -> None:
    from deskctl.errors import BadInput, Refused

    if target.is_dir():
        raise BadInput(f"-o: {target} is a directory; give a file name")
    if target.exists() and not force:
        raise Refused(f"{target} exists: give --force to overwrite it")
    if not target.parent.exists():
        raise BadInput(f"-o: folder {target.parent} does not exist")
    from deskctl import files

    # atomic and owner-only, as every file deskctl writes (a full disk is exit 5)
    files.write_bytes(target, data, what="-o")
