"""deskctl: a terminal-first helpdesk for vendors that sell support contracts."""

__version__ = "0.1.0"
