"""README.md's Quickstart and First steps, run as written, in two fresh shells on a fresh
clone: the server starts with secrets of its own, the second shell makes an account,
reps, a published router and a contact and dispatches it, creates a console admin who
signs in, then a HubSpot contact is routed by webhook through the bundled fake HubSpot
and its owner written back.

The blocks are taken from the clone's README.md: the fenced ``sh shell-1`` / ``sh shell-2``
blocks, in order, each pasted into its shell. The only change is the two port numbers
(8000 for the connector, 8100 for the fake HubSpot), replaced by free ones so that runs on
a busy machine do not collide. Stopping the server before a later ``shell-1`` block is the
reader's Ctrl-C: SIGINT to the command running in the foreground of that shell.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.support.migrations import READY_LINE
from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```sh (shell-[12])\n(.*?)^```", re.S | re.M)
#: the settings of this test run must not leak into the shells a reader would open
PRIVATE_PREFIXES = ("CONNECTOR_", "HUBSPOT_", "SALESFORCE_", "BYOC_", "DATABASE_URL",
                    "REDIS_URL", "CELERY_", "VIRTUAL_ENV", "PYTHONPATH", "PYTEST_")

#: installing the project into a fresh virtualenv can take minutes on a cold pip cache
pytestmark = [pytest.mark.readme, pytest.mark.timeout(900)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Shell:
    """A bash reading commands from a pipe, as a terminal pasting them would feed it."""

    def __init__(self, name: str, cwd: Path, env: dict[str, str]) -> None:
        self.name = name
        self.process = subprocess.Popen(["bash"], cwd=cwd, env=env, text=True, bufsize=1,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.output: list[str] = []
        self._changed = threading.Condition()
        self._blocks = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._changed:
                self.output.append(line)
                self._changed.notify_all()

    @property
    def text(self) -> str:
        with self._changed:
            return "".join(self.output)

    def wait_for(self, pattern: str, timeout: float, *, after: int = 0) -> re.Match:
        """The first match of ``pattern`` in the output from line ``after`` on."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = re.search(pattern, "".join(self.output[after:]), re.M)
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise AssertionError(f"{self.name}: no {pattern!r} within {timeout:.0f} s;"
                                         f" output:\n{''.join(self.output)[-6000:]}")
                self._changed.wait(min(left, 1.0))

    def paste(self, block: str) -> tuple[int, str]:
        """Send a block and a marker that prints once every command of it has run."""
        self._blocks += 1
        marker = f"__block_{self._blocks}_done__"
        with self._changed:
            start = len(self.output)
        # on a line of its own even after output without a final newline (curl's)
        self.process.stdin.write(block + f"\n__rc=$?; printf '\\n%s %s\\n' {marker} $__rc\n")
        self.process.stdin.flush()
        return start, marker

    def run(self, block: str, timeout: float) -> str:
        start, marker = self.paste(block)
        self.wait_for(rf"^{marker} \d+$", timeout, after=start)
        with self._changed:
            return "".join(self.output[start:])

    def interrupt(self) -> None:
        """Ctrl-C: SIGINT to the foreground command (the last child bash started)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = [int(p) for p in children.read_text().split()]
        assert pids, f"{self.name}: nothing runs in the foreground"
        os.kill(pids[-1], signal.SIGINT)

    def close(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(10)
                return
            except subprocess.TimeoutExpired:
                continue


@pytest.fixture
def clone(tmp_path) -> Path:
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs the git repository to clone")
    target = tmp_path / "crm-lead-connector"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True,
                   timeout=120)
    return target


def _shell_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(PRIVATE_PREFIXES)}
    venv = os.environ.get("VIRTUAL_ENV")
    if venv:  # the test's own virtualenv is not on a fresh shell's PATH
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                      if not p.startswith(venv))
    return env


def test_quickstart_and_first_steps_as_written(clone):
    blocks = BLOCK.findall((clone / "README.md").read_text())
    assert [shell for shell, _ in blocks].count("shell-1") == 2, blocks
    api, fake = _free_port(), _free_port()
    env = {**_shell_env(), "CONNECTOR_PORT": str(api)}
    shells = {"shell-1": Shell("shell 1", clone, env), "shell-2": Shell("shell 2", clone, env)}
    serving = None  # (shell, marker) of the server running in the foreground of shell 1
    try:
        for name, text in blocks:
            text = re.sub(r"\b8000\b", str(api), re.sub(r"\b8100\b", str(fake), text))
            shell = shells[name]
            if text.strip().splitlines()[-1].strip() == "connector serve":
                if serving is not None:  # the reader's Ctrl-C
                    shell.interrupt()
                    shell.wait_for(rf"^{serving[1]} \d+$", 60, after=serving[0])
                serving = shell.paste(text)
                # the first start installs the project into a fresh virtualenv
                shell.wait_for(rf"^connector serving on http://127.0.0.1:{api} ", 600,
                               after=serving[0])
            else:
                shell.run(text, 180)

        one, two = shells["shell-1"].text, shells["shell-2"].text
        assert "instance/connector.env written with new secrets" in one
        assert one.count(READY_LINE) == 1
        assert "Running upgrade" not in one and "alembic.runtime" not in one
        assert '"message":"The object was successfully assigned"' in two
        assert '"user":"jane@example.com"' in two
        assert "-> 204" in two

        owners = dict(re.findall(r"(\w+)@example\.com = (\d+)", one))
        lea = re.search(r'"objectId": (\d+)', two).group(1)
        _wait_for_owner(fake, lea, owners["bob"])
        _console_sign_in(api, shells["shell-2"], "DACH contacts")

        settings = clone / "instance" / "connector.env"
        assert settings.stat().st_mode & 0o777 == 0o600
        status = subprocess.run(["git", "status", "--porcelain"], cwd=clone,
                                capture_output=True, text=True, check=True).stdout
        assert "instance" not in status and "connector.db" not in status, status
    finally:
        for shell in shells.values():
            shell.close()


def _wait_for_owner(port: int, contact: str, owner: str) -> None:
    """The README's ``sleep 2`` is what a reader waits; on a loaded machine routing may take
    longer, so the owner is polled here before failing."""
    url = f"http://127.0.0.1:{port}/crm/v3/objects/contacts/{contact}"

    def current() -> str | None:
        found = requests.get(url, params={"properties": "hubspot_owner_id"}, timeout=5,
                             headers={"Authorization": "Bearer fake-private-app-token"})
        return found.json()["properties"].get("hubspot_owner_id")

    assert wait_until(current, 60, f"an owner on contact {contact}", interval=0.5) == owner


def _console_sign_in(port: int, shell: Shell, router: str) -> None:
    password = re.search(r"^pw=(.*)$", shell.run('echo "pw=$CONSOLE_PASSWORD"', 10),
                         re.M).group(1)
    base = f"http://127.0.0.1:{port}"
    browser = requests.Session()
    form = browser.get(f"{base}/admin/login", timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    signed_in = browser.post(f"{base}/admin/login", timeout=10, allow_redirects=False, data={
        "email": "admin@example.com", "password": password, "csrf_token": csrf})
    assert signed_in.status_code == 302, signed_in.text
    routers = browser.get(f"{base}/admin/routers", timeout=10)
    assert routers.status_code == 200 and router in routers.text
