"""A throwaway Dovecot IMAP server on 127.0.0.1 (TLS, a passwd file), one per test session.

Like tests/pg.py: the machine's ``dovecot`` binary with a config written into a temp
dir, listening on a free port; stopped at the end. Mail is stored as Maildir under
the temp dir and owned by the invoking user (root included: ``first_valid_uid = 0``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

USER = "suporte"
PASSWORD = "imap-s3cret"


def available() -> bool:
    return shutil.which("dovecot") is not None and shutil.which("openssl") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Dovecot:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="deskctl-dovecot-"))
        self.port = _free_port()
        self.cafile = self.dir / "cert.pem"
        self.config = self.dir / "dovecot.conf"

    def start(self) -> None:
        d = self.dir
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(d / "key.pem"), "-out", str(self.cafile)],
            check=True, capture_output=True,
        )
        uid, gid = os.getuid(), os.getgid()
        # as root, Dovecot's own unprivileged users run the login and auth processes
        user = "dovenull" if uid == 0 else _login_name()
        internal = "dovecot" if uid == 0 else _login_name()
        group = "dovecot" if uid == 0 else _group_name()
        d.chmod(0o755)
        (d / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::{d}/home/{USER}\n")
        for sub in ("run", "state", "home"):
            (d / sub).mkdir()
        if uid == 0:  # Dovecot never touches mail as root: the mail belongs to 'dovecot'
            import pwd

            entry = pwd.getpwnam("dovecot")
            uid, gid = entry.pw_uid, entry.pw_gid
            os.chown(d / "home", uid, gid)
        self.config.write_text(f"""
base_dir = {d}/run
state_dir = {d}/state
instance_name = deskctl-test-{self.port}
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
auth_mechanisms = plain
disable_plaintext_auth = yes
first_valid_uid = 0
first_valid_gid = 0
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {user}
mail_location = maildir:~/Maildir
mail_uid = {uid}
mail_gid = {gid}
passdb {{
  driver = passwd-file
  args = {d}/passwd
}}
userdb {{
  driver = passwd-file
  args = {d}/passwd
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.port}
    ssl = yes
  }}
  user = {user}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
""")
        # the daemon keeps its stdio open: never capture it (run() would wait forever)
        subprocess.run(
            ["dovecot", "-c", str(self.config)], check=True, timeout=30,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"dovecot did not start: {(d / 'dovecot.log').read_text()[-2000:]}")

    def stop(self) -> None:
        subprocess.run(
            ["dovecot", "-c", str(self.config), "stop"], timeout=30,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(self.dir, ignore_errors=True)

    def client(self):  # type: ignore[no-untyped-def]
        import ssl

        import imapclient

        ctx = ssl.create_default_context(cafile=str(self.cafile))
        c = imapclient.IMAPClient("127.0.0.1", port=self.port, ssl=True, ssl_context=ctx)
        c.login(USER, PASSWORD)
        return c

    def empty(self) -> None:
        """Remove every message and extra folder (between tests)."""
        with self.client() as c:
            for _flags, _sep, name in c.list_folders():
                if name != "INBOX":
                    c.delete_folder(name)
            c.select_folder("INBOX")
            uids = c.search(["ALL"])
            if uids:
                c.delete_messages(uids)
                c.expunge()

    def config_toml(self, password_file: Path, **extra: str) -> str:
        lines = [
            "[mailboxes.support]",
            'imap_host = "127.0.0.1"',
            f"imap_port = {self.port}",
            f'username = "{USER}"',
            f'password_command = "cat {password_file}"',
            'address = "suporte@medisoft.example"',
        ]
        lines += [f'{k} = "{v}"' for k, v in extra.items()]
        return "\n".join(lines) + "\n"


def _login_name() -> str:
    import pwd

    return pwd.getpwuid(os.getuid()).pw_name


def _group_name() -> str:
    import grp

    return grp.getgrgid(os.getgid()).gr_name
