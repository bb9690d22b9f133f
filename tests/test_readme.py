"""The README's first steps work as written, against a real server loaded with the demo."""

import re
import subprocess
from pathlib import Path

import pytest

from tests.live_server import Site

pytestmark = pytest.mark.live

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_block(starting_with: str) -> str:
    """The README's shell block whose first line starts with ``starting_with``."""
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.DOTALL):
        if block.startswith(starting_with):
            return block
    raise AssertionError(f"no shell block starting with {starting_with!r} in the README")


def test_readme_api_example_replies_to_an_open_conversation(tmp_path: Path):
    site = Site(tmp_path)
    site.manage("migrate", "--no-input")
    output = site.manage("load_demo", "--smtp", "127.0.0.1:2600")
    assert "SMTP 127.0.0.1:2600" in output  # the printed line follows `make demo`'s SMTP_PORT
    token = next(word for word in output.split() if word.startswith("cpt_"))
    url = site.start_server()
    try:
        script = readme_block("TOKEN=").replace("TOKEN=cpt_…", f"TOKEN={token}")
        script = script.replace("http://127.0.0.1:8000", url)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        reply = site.python(
            "import json; from comptoir.conversations.models import Message; "
            "m = Message.objects.get(text='Bonjour, votre colis part aujourd\u2019hui.'); "
            "print(json.dumps({'status': m.conversation.status, 'by': m.author_kind}))"
        )
        assert reply["status"] == "open"
        assert reply["by"] == "agent"  # written as the token's agent
    finally:
        site.stop()
