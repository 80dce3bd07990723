"""The real helpdesk binary on an ephemeral port over a fresh data dir,
provisioned through `helpdesk admin`, as an operator would."""

import base64
import json
import os
import pathlib
import re
import subprocess
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = os.environ.get("HELPDESK_BIN", str(ROOT / "target" / "debug" / "helpdesk"))
DEMO_IMAGES = ROOT / "crates" / "helpdesk-cli" / "demo"
LOG_ID = re.compile(r"^\d{14}[0-9A-F]{20}$")


class Server:
    def __init__(self, data_dir: str):
        self.data_dir = data_dir
        self.log_path = os.path.join(data_dir, "server.log")
        self.port = 0
        self.proc = None
        self.base = None

    def start(self):
        log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            [BIN, "serve", "--data-dir", self.data_dir, "--listen", f"127.0.0.1:{self.port}"],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        for line in self.proc.stdout:
            if line.startswith("helpdesk listening on "):
                self.base = line.split()[-1]
                self.port = int(self.base.rsplit(":", 1)[1])
                return
        raise RuntimeError(f"helpdesk serve exited before listening; see {self.log_path}")

    def stop(self):
        self.proc.terminate()
        assert self.proc.wait(timeout=30) == 0

    def restart(self):
        """Stops and starts again on the same port and data dir."""
        self.stop()
        self.start()

    def admin(self, *args) -> dict:
        out = subprocess.run(
            [BIN, "admin", "--data-dir", self.data_dir, *args], check=True, capture_output=True, text=True
        )
        return json.loads(out.stdout)

    def new_party(self, name: str) -> "Party":
        """A tenant of its own with one helpdesk and one custom app, for tests
        that count what a helpdesk holds."""
        key = self.admin("tenant", "create", "--name", name)["tenant_key"]
        return Party(self, key, self.admin("helpdesk", "create", "--tenant", key, "--name", name))

    def agent(self, party: "Party", name: str) -> dict:
        """An agent of the party's helpdesk with a user access token for the
        party's app: {"agent_id", "name", "user_access_token", ...}."""
        agent = self.admin("agent", "create", "--helpdesk", party.helpdesk_id, "--name", name)
        token = self.admin("agent", "token", "--agent", agent["agent_id"], "--app", party.app_id)
        return {**agent, "user_access_token": token["user_access_token"]}

    def another_app(self, party: "Party") -> "Party":
        """A second custom app of the party's tenant, calling with the same
        helpdesk."""
        helpdesk = {"helpdesk_id": party.helpdesk_id, "helpdesk_token": party.helpdesk_token}
        return Party(self, party.tenant_key, helpdesk)

    def user(self, party: "Party", name: str) -> str:
        """A user of the party's tenant (a guest to be), by open_id."""
        return self.admin("user", "create", "--tenant", party.tenant_key, "--name", name)["open_id"]

    def token_requests(self) -> int:
        """How many token requests the server has logged so far."""
        with open(self.log_path) as f:
            return sum("path=/open-apis/auth/v3/tenant_access_token/internal" in line for line in f)


class Party:
    """An app and the helpdesk it calls with."""

    def __init__(self, server: Server, tenant_key: str, helpdesk: dict, kind="custom", scopes=()):
        args = ["app", "create", "--tenant", tenant_key, "--name", "conformance", "--kind", kind]
        for s in scopes:
            args += ["--scope", s]
        app = server.admin(*args)
        self.tenant_key = tenant_key
        self.app_id = app["app_id"]
        self.app_secret = app["app_secret"]
        self.helpdesk_id = helpdesk["helpdesk_id"]
        self.helpdesk_token = helpdesk["helpdesk_token"]

    @property
    def credential(self) -> str:
        return base64.b64encode(f"{self.helpdesk_id}:{self.helpdesk_token}".encode()).decode()


class World:
    def __init__(self, server: Server):
        self.server = server
        tenants = {}
        for name in ("A", "B"):
            key = server.admin("tenant", "create", "--name", name)["tenant_key"]
            tenants[name] = (key, server.admin("helpdesk", "create", "--tenant", key, "--name", name))
        self.a = Party(server, *tenants["A"])
        self.b = Party(server, *tenants["B"])
        self.a_store = Party(server, *tenants["A"], kind="store")
        self.a_no_helpdesk_scope = Party(server, *tenants["A"], scopes=["im:resource"])


@pytest.fixture(scope="session")
def server():
    with tempfile.TemporaryDirectory() as d:
        s = Server(d)
        s.start()
        yield s
        s.stop()


@pytest.fixture(scope="session")
def world(server):
    return World(server)
