"""Secrets from a ``password_command`` (as msmtp's ``passwordeval`` and git's credential
helpers do), for hosts with no keyring backend. A base module: SMTP (services/mail) and
IMAP (services/mail_sources) both use it, and neither may import the other for it.
"""

from __future__ import annotations

import subprocess

from deskctl.errors import Refused


def run_password_command(command: str, what: str) -> str:
    """The first line a password command prints; its failure is one clear line.

    The password is never echoed: an error names the command's exit status only.
    """
    try:
        done = subprocess.run(
            command, shell=True, capture_output=True, timeout=30, check=False, text=True
        )
    except subprocess.TimeoutExpired:
        raise Refused(f"{what}: password_command timed out after 30 s") from None
    if done.returncode != 0:
        raise Refused(f"{what}: password_command exited {done.returncode}")
    line = (done.stdout.splitlines() or [""])[0].rstrip("\r\n")
    if not line:
        raise Refused(f"{what}: password_command printed no password")
    return line
