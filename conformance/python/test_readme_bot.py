"""The README's events bot, as printed there, saves every image posted to a
ticket: run it with real credentials, post, and compare the files."""

import base64
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import time

from conftest import ROOT, Party
from test_sdk import IMAGES, client, helpdesk, post, start_service, upload
from test_events import subscription


def readme_bot() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Events", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_readme_bot_saves_every_image(server, world):
    party = Party(server, world.a.tenant_key, {"helpdesk_id": world.a.helpdesk_id, "helpdesk_token": world.a.helpdesk_token})
    port = free_port()
    code = readme_bot().replace("http://127.0.0.1:8080", server.base).replace("9000", str(port))
    constants = {
        "APP_ID": party.app_id,
        "APP_SECRET": party.app_secret,
        "HELPDESK_CREDENTIAL": party.credential,
        "ENCRYPT_KEY": "readme key",
        "VERIFICATION_TOKEN": "readme token",
    }
    prelude = "".join(f"{k} = {json.dumps(v)}\n" for k, v in constants.items())
    with tempfile.TemporaryDirectory() as out:
        bot = subprocess.Popen([sys.executable, "-c", prelude + code], cwd=out, stderr=subprocess.DEVNULL)
        c = client(server, party)
        try:
            deadline = time.time() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    assert time.time() < deadline, "the bot did not start"
                    time.sleep(0.05)
            server.admin(
                "app", "events", "--app", party.app_id, "--url", f"http://127.0.0.1:{port}/webhook/event",
                "--encrypt-key", "readme key", "--verification-token", "readme token",
            )
            subscription(c, party, True, only_messages=True)
            keys = [upload(c, data) for data in IMAGES[:3]]
            ticket_id = start_service(c, party)
            image_msg = post(c, party, ticket_id, "image", {"image_key": keys[0]})
            paragraphs = [[{"tag": "img", "image_key": k}] for k in keys[1:]]
            post_msg = post(c, party, ticket_id, "post", {"zh_cn": {"title": "t", "content": paragraphs}})
            want = {f"{image_msg}-0": IMAGES[0], f"{post_msg}-0": IMAGES[1], f"{post_msg}-1": IMAGES[2]}
            deadline = time.time() + 15
            while len(os.listdir(out)) < 3 and time.time() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)
            saved = {p.stem: p.read_bytes() for p in pathlib.Path(out).iterdir()}
            assert saved == want
        finally:
            subscription(c, party, False, only_messages=True)
            server.admin("app", "events", "--app", party.app_id, "--url", "")
            bot.terminate()
            bot.wait()
