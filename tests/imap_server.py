"""A real Dovecot IMAP server, started as a subprocess for the IMAP polling tests.

Minimal configuration: IMAP only, on 127.0.0.1 and a free port, no TLS,
plain-text login allowed, any user name with one static password, one
Maildir per user under a temporary folder. Dovecot refuses to serve mail as
root, so when the tests run as root the server runs as the ``dovecot`` system
user (created by the Debian package) in a folder that user owns; otherwise it
runs as the current user.
"""

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from imapclient import IMAPClient

from tests.live_server import free_port

PASSWORD = "imap-test-password"

CONFIG = """
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{folder}/mail/%u
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={folder}/home/%u
}}
"""


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )


class Dovecot:
    def __init__(self) -> None:
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="comptoir-dovecot-"))
        if os.getuid() == 0:
            self.user, self.group = "dovecot", "dovecot"
        else:
            self.user = pwd.getpwuid(os.getuid()).pw_name
            self.group = grp.getgrgid(os.getgid()).gr_name
        self.process: subprocess.Popen | None = None

    def start(self) -> "Dovecot":
        config = self.folder / "dovecot.conf"
        config.write_text(
            CONFIG.format(
                folder=self.folder,
                user=self.user,
                group=self.group,
                port=self.port,
                password=PASSWORD,
            )
        )
        if os.getuid() == 0:
            shutil.chown(self.folder, self.user, self.group)
            shutil.chown(config, self.user, self.group)
        as_user = {"user": self.user, "group": self.group} if os.getuid() == 0 else {}
        self.process = subprocess.Popen(
            [dovecot_binary(), "-F", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            **as_user,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited:\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not listen on {self.port}:\n{self.log()}")

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, user: str, folder: str = "INBOX") -> str:
        return f"imap://{user.replace('@', '%40')}:{PASSWORD}@127.0.0.1:{self.port}/{folder}"

    def client(self, user: str) -> IMAPClient:
        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(user, PASSWORD)
        client.select_folder("INBOX")
        return client
