"""Work log and invoices (docs/rules.md §7): log time on tickets, draft bills, finalise, void.

Pricing is :mod:`deskctl.domain.billing`; this module decides *what* is billed
and keeps the books straight.

- A work-log entry is a WORKLOG event and a ``worklog`` row (``event_seq``
  links them), written in one transaction. Entries are never edited: a
  negative entry corrects earlier ones, and may only take back time of its
  kind that no finalised invoice holds (void the invoice first). One entry is
  at most 24 h: a longer one is almost surely a typo.
- A bill covers a customer's work-log rows dated in ``[from, to]`` (whole UTC
  days) that are not on a finalised invoice (``invoice_line_id IS NULL``). A
  draft stores nothing. ``--all`` lists only customers with something to bill.
  Rows no line bills (an included-plan defect, connection time on an
  out-of-scope ticket) stay free: they cost nothing now and are billed if the
  ticket is re-triaged into something billable.
- Later work on an already invoiced ticket: that kind of line is priced on all
  its invoiced and newly billed minutes, and the new line charges the
  difference from what finalised invoices already charged for it (base,
  started blocks and amount each). So the intervention base is charged once:
  21 min then 30 more min bill 80.00 then 35.00 (51 min = 115.00). The new
  line may be 0.00 (the time fit in blocks already paid); it still locks its
  rows. Should the ticket now price *below* what was invoiced (re-triaged
  after invoicing), the line charges nothing and says so: a refund is a void.
- Finalising takes the invoice counter of the year (``SELECT ... FOR UPDATE``
  on PostgreSQL, the write transaction on SQLite) *before* reading what to
  bill, so two finalisations run one after the other: no line billed twice, no
  number skipped or repeated. Nothing to bill is refused (exit 1) and uses no
  number. The series and the number's year are the UTC year of finalisation.
- Voiding keeps the invoice, its lines and its number (never reused) and frees
  its work-log rows, which the next bill of their period picks up again.
- A ticket without a stored ``billing_mode`` (opened before the entitlement
  check recorded one) gets its plan's mode; a per-intervention plan bills the
  previous-version rate when the ticket's version is older than the product's
  current release (``domain.versions.is_current``) and the policy bills
  previous versions. An unreadable version counts as current. ``warranty``
  bills like ``included``.
- Rate names: hourly keys match whatever ``-``/``_`` they are written with,
  and a billable service whose topic has its own hourly rate (DMS
  ``data-recovery``) is billed at that rate and named after it.
- VAT: the customer's rate, else ``default_vat_rate`` of the latest version of
  the policy the bill's newest ticket was opened under.

The modules: ``worklog`` (log time, read a ticket's work log), ``drafts`` (what a period
bills, priced, and its JSON document), ``rates`` (the rates an invoice shows) and
``invoices`` (finalise, void, read the stored invoices).
"""

from __future__ import annotations
