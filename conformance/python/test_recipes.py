"""The README's pytest recipe ("In your test suite"), its conftest.py as
printed, run by pytest in a directory of its own beside a small test file:
from the project's root (where the recipe's fixtures path resolves), with
the built `helpdesk` first on PATH.

An ephemeral server is always the embedded backend, whatever the pass: the
run gets none of the HELPDESK_* variables the test command exports (with the
postgres-s3 pass's HELPDESK_DATABASE_URL, `--ephemeral` refuses to start,
and `admin reset` would reset that database instead)."""

import os
import pathlib
import re
import subprocess
import sys
import tempfile

from conftest import BIN, ROOT

TEST_FILE = '''
import json
import pathlib

from lark_oapi.api.helpdesk.v1 import (
    CreateTicketMessageRequest,
    CreateTicketMessageRequestBody,
    ListTicketMessageRequest,
    TicketImageTicketRequest,
)

TICKET = "7744543483208438777"


def messages(h):
    req = ListTicketMessageRequest.builder().ticket_id(TICKET).page(1).page_size(50).build()
    resp = h.client.helpdesk.v1.ticket_message.list(req, h.option)
    assert resp.success(), (resp.code, resp.msg)
    return resp.data.messages


def test_the_fixture_tickets_image_downloads_byte_for_byte(helpdesk):
    assert helpdesk.base_url.startswith("http://127.0.0.1:")
    image = [m for m in messages(helpdesk) if m.message_type == "image"]
    assert len(image) == 1
    req = TicketImageTicketRequest.builder().ticket_id(TICKET).msg_id(image[0].id).build()
    resp = helpdesk.client.helpdesk.v1.ticket.ticket_image(req, helpdesk.option)
    assert resp.success(), (resp.code, resp.msg)
    assert resp.file_name == "screenshot.png"
    assert resp.file.read() == pathlib.Path("deploy/fixtures/screenshot.png").read_bytes()


def test_a_test_posts_to_the_fixture_ticket(helpdesk):
    body = CreateTicketMessageRequestBody.builder().msg_type("text").content(json.dumps({"text": "mine"})).build()
    req = CreateTicketMessageRequest.builder().ticket_id(TICKET).request_body(body).build()
    resp = helpdesk.client.helpdesk.v1.ticket_message.create(req, helpdesk.option)
    assert resp.success(), (resp.code, resp.msg)
    assert len(messages(helpdesk)) == 4


def test_clean_helpdesk_is_the_fixtures_file_again(clean_helpdesk):
    assert [m.message_type for m in messages(clean_helpdesk)] == ["text", "image", "post"]
'''


def readme_recipe(name: str) -> str:
    """The fenced block right after `<!-- recipe: NAME -->` in the README."""
    text = (ROOT / "README.md").read_text()
    found = re.search(rf"<!-- recipe: {name} -->\n```\w*\n(.*?\n)```\n", text, re.S)
    assert found, f"the README has no {name} recipe"
    return found.group(1)


def test_the_pytest_recipe_serves_the_fixtures_and_resets_between_tests():
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPDESK_")}
    env["PATH"] = f"{os.path.dirname(os.path.abspath(BIN))}{os.pathsep}{env.get('PATH', '')}"
    with tempfile.TemporaryDirectory() as d, tempfile.TemporaryDirectory() as tmp:
        suite = pathlib.Path(d)
        (suite / "conftest.py").write_text(readme_recipe("pytest"))
        (suite / "test_fixture_ticket.py").write_text(TEST_FILE)
        env["TMPDIR"] = tmp  # where the recipe's own temporary directory goes
        run = subprocess.run(
            [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider", "-q", "--rootdir", str(suite)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert re.search(r"\b3 passed\b", run.stdout), run.stdout
        # The server's directory went with it, and so did the recipe's.
        assert os.listdir(tmp) == []
