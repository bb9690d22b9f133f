"""Real ``comptoir serve`` processes for multi-process and browser tests.

Each test site gets its own folder (SQLite database, media) so these tests
never touch the pytest-django test database, and the servers run exactly as in
production: uvicorn, Channels, the configured channel layer.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

COMPTOIR = [sys.executable, "-m", "comptoir"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Site:
    """One database shared by any number of server processes."""

    folder: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    servers: list[subprocess.Popen] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update({"COMPTOIR_VAR_DIR": str(self.folder), "LOG_LEVEL": "WARNING"}, **self.extra_env)
        return env

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [*COMPTOIR, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"comptoir {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def python(self, code: str) -> dict:
        """Run ``code`` in ``comptoir shell`` on this site; it prints one JSON object."""
        return json.loads(self.manage("shell", "-c", code).strip().splitlines()[-1])

    def start_server(
        self, port: int | None = None, log_level: str = "warning", options: tuple[str, ...] = ()
    ) -> str:
        """Start ``comptoir serve`` (plus ``options``, e.g. ``("--worker",)``); returns its URL."""
        port = port or free_port()
        log = open(self.folder / f"server-{port}.log", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [*COMPTOIR, "serve", "--port", str(port), "--log-level", log_level, *options],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.servers.append(process)
        self.logs.append(self.folder / f"server-{port}.log")
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError((self.folder / f"server-{port}.log").read_text())
            try:
                urllib.request.urlopen(f"{url}/console/login/", timeout=1).close()
                return url
            except urllib.error.HTTPError:
                return url  # it answers, whatever the page says
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server on {url} did not start")

    def stop(self) -> None:
        for process in self.servers:
            process.terminate()
        for process in self.servers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


AGENT_SESSION_CODE = """
import json
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from comptoir.tenancy.models import Membership
m = Membership.objects.select_related("user").get(user__username={username!r})
s = SessionStore()
s[SESSION_KEY] = str(m.user.pk)
s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
s[HASH_SESSION_KEY] = m.user.get_session_auth_hash()
s.create()
print(json.dumps({{"sessionid": s.session_key, "brand": m.brand.slug}}))
"""


def agent_session(site: Site, username: str) -> dict:
    """A logged-in console session for ``username``, as the login form would create it."""
    return site.python(AGENT_SESSION_CODE.format(username=username))
