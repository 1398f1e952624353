"""No network at run time (issue 6): evaluate, score, appendix, import and the app open no outbound connection.

In-process, every socket connect and name lookup to anything but loopback raises; the same commands also run
in a process without any network (a fresh network namespace, where the machine allows one), which covers
code outside Python too (vl-convert renders the appendix charts in Rust).
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from decision.appendix.charts import to_png
from decision.cli import main

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "data" / "profiles" / "contoso-2026.yaml"
EXPORT = ROOT / "tests" / "data" / "exchange" / "ex2016-contoso.json"
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _loopback(host: object) -> bool:
    if host is None or str(host) in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


class OutboundConnection(AssertionError):
    pass


@pytest.fixture
def no_network(monkeypatch) -> list[str]:
    """Outbound connections and lookups raise (and are recorded); loopback and Unix sockets still work."""
    attempts: list[str] = []
    real_connect, real_connect_ex, real_getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo

    def check(sock: socket.socket, address: object) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):  # type: ignore[index]
            attempts.append(repr(address))
            raise OutboundConnection(f"outbound connection to {address!r}")

    def connect(sock, address):
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host, *args, **kwargs):
        if not _loopback(host):
            attempts.append(f"lookup {host}")
            raise OutboundConnection(f"name lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts


def test_the_guard_catches_an_outbound_connection(no_network):
    with pytest.raises(OutboundConnection), socket.create_connection(("192.0.2.1", 443), timeout=1):
        pass
    assert no_network


COMMANDS = [
    ["evaluate", PROFILE, "--format", "json"],
    ["score", ROOT / "data" / "profiles", "-o", "{tmp}/scores.xlsx"],
    ["appendix", PROFILE, "-o", "{tmp}/appendix.md"],
    ["appendix", PROFILE, "-o", "{tmp}/appendix.docx"],
    ["appendix", PROFILE, "-o", "{tmp}/appendix.html"],
    ["import", EXPORT, "-o", "{tmp}/imported.yaml"],
]


def _args(command: list, tmp: Path) -> list[str]:
    return [str(a).replace("{tmp}", str(tmp)) for a in command]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: f"{c[0]}-{Path(str(c[-1])).suffix.lstrip('.') or 'json'}")
def test_commands_open_no_outbound_connection(no_network, tmp_path, command):
    result = CliRunner().invoke(main, _args(command, tmp_path))
    assert result.exit_code == 0, result.output
    assert no_network == []


def test_the_app_opens_no_outbound_connection(no_network):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.file_uploader(key="upload").set_value((EXPORT.name, EXPORT.read_bytes(), "application/json")).run()
    assert not at.exception and at.session_state["source"] == f"imported {EXPORT.name}"
    assert no_network == []


def test_charts_never_fetch_data():
    """vl-convert is told to allow no external URL: a chart naming one fails instead of fetching it."""
    spec = json.dumps({"data": {"url": "https://example.com/data.csv"}, "mark": "point"})
    with pytest.raises(ValueError, match="External data url not allowed"):
        to_png(spec)


def _netns() -> bool:
    if not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0


# each command as `python -m decision ARGS` runs it (runpy, __main__), one after the other in the one process without
# network (one interpreter start, not one per command); its exit code (SystemExit) is collected, printed last
_EACH_AS_PYTHON_M_DECISION = """
import json, runpy, sys
codes = []
for args in json.loads(sys.argv[1]):
    sys.argv = ["decision", *args]
    try:
        runpy.run_module("decision", run_name="__main__", alter_sys=True)
        codes.append(0)
    except SystemExit as exc:
        codes.append(0 if exc.code is None else exc.code)
print(json.dumps(codes))
"""


@pytest.mark.skipif(not _netns(), reason="needs `unshare -n` (a network namespace) on this machine")
def test_commands_work_in_a_process_without_network(tmp_path):
    probe = subprocess.run(["unshare", "-n", sys.executable, "-c",
                            "import socket; socket.create_connection(('192.0.2.1', 443), timeout=2)"],
                           capture_output=True, text=True)
    assert probe.returncode != 0  # really no network in there
    commands = [_args(command, tmp_path) for command in COMMANDS]
    result = subprocess.run(["unshare", "-n", sys.executable, "-c", _EACH_AS_PYTHON_M_DECISION, json.dumps(commands)],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == [0] * len(COMMANDS), result.stderr
    assert (tmp_path / "appendix-figure-1-tradeoff.png").read_bytes().startswith(b"\x89PNG")
