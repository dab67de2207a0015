"""`mirix-desktop mcp` against the MCP SDK's own client, over stdio and Streamable HTTP.

The server runs as a subprocess on a passphrase store seeded with memories:
a Firefox episode and screen, a knowledge-vault item, and an episode, a
resource and a screen of Signal, which `mcp.exclude_apps` hides. One server
per module fixture serves its tests (see tests/helpers/mcp_client.py).
"""

from __future__ import annotations

import json
import os
import select
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import psutil
import pytest
from click.testing import CliRunner

from mirix_desktop.cli.main import cli
from mirix_desktop.memory.embedder import StaticEmbedder
from mirix_desktop.memory.frames import NewFrame, insert_frame, save_ocr
from mirix_desktop.memory.keys import KeySource
from mirix_desktop.memory.records import EpisodicMemory, KnowledgeVaultItem, ResourceMemory
from mirix_desktop.memory.store import MemoryStore
from tests.conftest import MODELS_DIR
from tests.helpers.fake_openai import FakeOpenAIServer
from tests.helpers.mcp_client import SessionThread, http_session, stdio_session

PASSPHRASE = "mcp test passphrase"
SECRET = "7391-SECRET-PIN"
READ_TOOLS = {"search_memory", "get_memory", "get_timeline", "get_screen_text", "list_apps"}


@dataclass(frozen=True)
class Line:
    text: str
    x: int = 10
    y: int = 10
    width: int = 300
    height: int = 20
    confidence: float = 95.0


@dataclass(frozen=True)
class Seeded:
    data_dir: Path
    env: dict[str, str]
    firefox_episode: int
    signal_episode: int
    signal_resource: int
    vault: int
    firefox_frame: int
    signal_frame: int
    firefox_frame_at: datetime


def _env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(data_dir.parent / "home"),
        "MIRIX_DATA_DIR": str(data_dir),
        "MIRIX_PASSPHRASE": PASSPHRASE,
        "MIRIX_MODELS_DIR": str(MODELS_DIR),
        **extra,
    }


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, embedder: StaticEmbedder) -> Seeded:
    data_dir = tmp_path_factory.mktemp("mcp") / "data"
    data_dir.mkdir(mode=0o700)
    (data_dir / "config.toml").write_text('[mcp]\nexclude_apps = ["Signal"]\n')
    now = datetime.now().astimezone()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    # Everything today, also when the test runs just after midnight.
    start = max(midnight + timedelta(seconds=10), now - timedelta(minutes=40))
    step = (now - start) / 8
    store = MemoryStore.open(data_dir / "mirix.db", KeySource(passphrase=PASSPHRASE), embedder)
    try:
        firefox = store.add(
            EpisodicMemory(
                summary="Read ticket JIRA-4821 about the checkout bug on Safari",
                title="JIRA-4821 checkout bug",
                app="Firefox",
                started_at=start,
                ended_at=start + 3 * step,
            )
        )
        signal = store.add(
            EpisodicMemory(
                summary="Chat with Alice about the zebra launch",
                title="Alice",
                app="Signal",
                started_at=start + 4 * step,
                ended_at=start + 6 * step,
            )
        )
        resource = store.add(
            ResourceMemory(
                content="zebra launch plan: the checkout bug ships on Friday",
                title="Alice",
                app="Signal",
                first_seen=start + 4 * step,
                last_seen=start + 5 * step,
            )
        )
        vault = store.add(
            KnowledgeVaultItem(secret_value=SECRET, caption="bank card pin", created=start)
        )
        frame_at = start + step
        with store.transaction() as conn:
            firefox_frame = insert_frame(
                conn,
                NewFrame(frame_at, 0, "Firefox", "JIRA-4821", None, "f1", 800, 600, None, 1.0),
            )
            save_ocr(conn, firefox_frame, [Line("Ticket JIRA-4821"), Line("Checkout fails")])
            signal_frame = insert_frame(
                conn,
                NewFrame(start + 5 * step, 0, "Signal", "Alice", None, "f2", 800, 600, None, 1.0),
            )
            save_ocr(conn, signal_frame, [Line("zebra launch is secret")])
    finally:
        store.close()
    return Seeded(
        data_dir,
        _env(data_dir),
        firefox,
        signal,
        resource,
        vault,
        firefox_frame,
        signal_frame,
        frame_at,
    )


@pytest.fixture(scope="module")
def client(seeded: Seeded) -> Iterator[SessionThread]:
    """A read-only server over stdio (no --allow-write, no model configured)."""
    session = SessionThread(lambda: stdio_session([], seeded.env))
    yield session
    session.close()


def _data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    data = result.structured_content
    assert isinstance(data, dict)
    return data


def _error(result: Any) -> str:
    assert result.is_error, result.structured_content
    return str(result.content[0].text)


def _tool_names(session: SessionThread) -> set[str]:
    return {tool.name for tool in session.run(lambda s: s.list_tools()).tools}


# -- stdio, read-only ------------------------------------------------------------------------
def test_read_only_by_default_and_no_ask_without_a_model(client: SessionThread) -> None:
    assert _tool_names(client) == READ_TOOLS


def test_search_finds_memories(client: SessionThread, seeded: Seeded) -> None:
    found = _data(client.call("search_memory", {"query": "JIRA-4821 checkout", "limit": 5}))
    assert found["results"][0]["id"] == seeded.firefox_episode
    assert found["count"] == len(found["results"]) >= 1
    episodic = _data(client.call("search_memory", {"query": "checkout", "types": ["episodic"]}))
    assert {hit["type"] for hit in episodic["results"]} == {"episodic"}


def test_excluded_app_is_absent_from_every_tool(client: SessionThread, seeded: Seeded) -> None:
    searched = _data(client.call("search_memory", {"query": "zebra launch checkout"}))
    assert searched["results"], "the Firefox episode matches 'checkout'"
    assert all(hit["app"] != "Signal" for hit in searched["results"])
    assert "zebra" not in json.dumps(searched["results"])
    by_app = _data(client.call("search_memory", {"query": "zebra", "app": "Signal"}))
    assert by_app["count"] == 0
    for memory_id in (seeded.signal_episode, seeded.signal_resource):
        assert "No memory" in _error(client.call("get_memory", {"id": memory_id}))
    assert "No captured screen" in _error(
        client.call("get_screen_text", {"frame_id": seeded.signal_frame})
    )
    timeline = _data(client.call("get_timeline", {}))
    apps = _data(client.call("list_apps", {}))
    today = client.run(lambda s: s.read_resource("mirix://today")).contents[0].text
    for shown in (json.dumps(timeline), json.dumps(apps), today):
        assert "Signal" not in shown and "Firefox" in shown


def test_vault_value_is_never_shown(client: SessionThread, seeded: Seeded) -> None:
    searched = _data(client.call("search_memory", {"query": "bank card pin"}))
    assert seeded.vault in [hit["id"] for hit in searched["results"]]
    item = _data(client.call("get_memory", {"id": seeded.vault}))
    assert item["title"] == "bank card pin"
    assert "secret_value" not in item["fields"]
    assert SECRET not in json.dumps(searched) + json.dumps(item)


def test_timeline_and_screen_text(client: SessionThread, seeded: Seeded) -> None:
    timeline = _data(
        client.call("get_timeline", {"date": seeded.firefox_frame_at.date().isoformat()})
    )
    assert [e["memory_id"] for e in timeline["episodes"]] == [seeded.firefox_episode]
    assert timeline["time_per_app"][0]["app"] == "Firefox"
    ranged = _data(
        client.call(
            "get_timeline",
            {"since": (seeded.firefox_frame_at - timedelta(hours=2)).isoformat()},
        )
    )
    assert ranged["count"] == 1
    screen = _data(client.call("get_screen_text", {"at": seeded.firefox_frame_at.isoformat()}))
    assert screen["frame_id"] == seeded.firefox_frame
    assert screen["text"] == "Ticket JIRA-4821\nCheckout fails"
    apps = _data(client.call("list_apps", {"since": "yesterday"}))
    assert [a["app"] for a in apps["apps"]] == ["Firefox"]


def test_bad_arguments_are_clear_tool_errors(client: SessionThread) -> None:
    too_many = _error(client.call("search_memory", {"query": "checkout", "limit": 51}))
    assert "limit" in too_many and "less than or equal to 50" in too_many
    assert "limit" in _error(client.call("search_memory", {"query": "checkout", "limit": -1}))
    bad_date = _error(client.call("get_timeline", {"date": "2026-13-45"}))
    assert "'2026-13-45' is not a date" in bad_date
    swapped = _error(
        client.call("search_memory", {"query": "x", "since": "2026-02-01", "until": "2026-01-01"})
    )
    assert "is after until" in swapped
    assert "exactly one of at or frame_id" in _error(client.call("get_screen_text", {}))
    assert "Unknown tool" in _error(client.call("remember", {"text": "I like tea"}))
    # ... and the server still serves.
    assert _data(client.call("search_memory", {"query": "checkout"}))["count"] >= 1


def test_huge_arguments_are_short_clear_tool_errors(client: SessionThread) -> None:
    huge = "word " * 1_000_000  # 5 MB
    query = _error(client.call("search_memory", {"query": huge}))
    assert "query too long (5,000,000 characters; at most 2,000)" in query
    since = _error(client.call("search_memory", {"query": "checkout", "since": huge}))
    assert "since too long (5,000,000 characters; at most 100)" in since
    day = _error(client.call("get_timeline", {"date": huge}))
    assert "date too long (5,000,000 characters; at most 100)" in day
    assert all(len(message) < 200 for message in (query, since, day)), "the value quoted back"
    # One type 300,000 times: more SQL parameters than this SQLite takes (250,000), were
    # each kept.
    many = ["episodic"] * 300_000
    repeated = client.call("search_memory", {"query": "checkout", "types": many})
    assert {hit["type"] for hit in _data(repeated)["results"]} == {"episodic"}
    assert _data(client.call("search_memory", {"query": "checkout"}))["count"] >= 1


class RawStdio:
    """`mirix-desktop mcp` spoken to line by line, as no SDK client would."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mirix_desktop", "mcp"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def send(self, message: str | dict[str, Any]) -> None:
        assert self.process.stdin is not None
        line = message if isinstance(message, str) else json.dumps(message)
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def answer(self, timeout: float = 20) -> dict[str, Any]:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        assert ready, f"no answer in {timeout} s"
        answer = json.loads(self.process.stdout.readline())
        assert isinstance(answer, dict)
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        finally:
            assert self.process.stdout is not None
            self.process.stdout.close()


def test_a_malformed_line_is_answered_and_the_server_serves_on(seeded: Seeded) -> None:
    raw = RawStdio(seeded.env)
    try:
        raw.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "1"},
                },
            }
        )
        assert raw.answer()["id"] == 1
        raw.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        raw.send('{"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"na')
        not_json = raw.answer()
        raw.send({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": 5})
        invalid = raw.answer()
        raw.send(
            {
                "jsonrpc": "2.0",
                "id": 4,
                "method": "tools/call",
                "params": {"name": "search_memory", "arguments": {"query": "JIRA-4821"}},
            }
        )
        served = raw.answer()
    finally:
        raw.close()
    assert not_json["id"] is None and not_json["error"]["code"] == -32700
    assert invalid["id"] == 3 and invalid["error"]["code"] == -32600
    assert "params: Input should be an object" in invalid["error"]["message"]
    assert served["id"] == 4 and not served["result"]["isError"]
    assert served["result"]["structuredContent"]["results"][0]["id"] == seeded.firefox_episode


def test_calls_are_logged_without_content(client: SessionThread, seeded: Seeded) -> None:
    client.call("search_memory", {"query": "zebra launch", "limit": 3})
    log_file = seeded.data_dir / "logs" / "mcp.log"
    deadline = time.monotonic() + 5
    while "args=[limit,query]" not in log_file.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    text = log_file.read_text()
    assert "client=mcp tool=search_memory args=[limit,query] result=ok count=" in text
    for content in ("zebra", "checkout", SECRET, "JIRA"):
        assert content not in text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


def test_calls_are_in_the_store_audit_log_without_content(
    client: SessionThread, seeded: Seeded, embedder: StaticEmbedder
) -> None:
    def audit_rows(store: MemoryStore, after: int) -> list[tuple[int, str, str, str]]:
        with store.read() as conn:
            return conn.execute(
                "SELECT id, actor, action, details FROM audit_log WHERE id > ? ORDER BY id",
                (after,),
            ).fetchall()

    store = MemoryStore.open(
        seeded.data_dir / "mirix.db", KeySource(passphrase=PASSPHRASE), embedder
    )
    try:
        before = max((row[0] for row in audit_rows(store, 0)), default=0)
        client.call("search_memory", {"query": "zebra launch checkout", "limit": 3})
        client.call("get_memory", {"id": seeded.vault})
        rows = audit_rows(store, before)
    finally:
        store.close()
    # Written before the answer went back: no waiting here.
    assert [(actor, action) for _, actor, action, _ in rows] == [("mcp", "mcp_read")] * 2
    search, memory = (json.loads(row[3]) for row in rows)
    assert search["tool"] == "search_memory" and search["args"] == ["limit", "query"]
    assert search["result"] == "ok" and isinstance(search["count"], int)
    assert memory["tool"] == "get_memory" and memory["count"] == 1
    text = json.dumps(rows)
    for content in ("zebra", "checkout", SECRET, "JIRA", "bank card"):
        assert content not in text


# -- stdio with --allow-write and a model ------------------------------------------------------
def test_allow_write_adds_remember_and_a_model_adds_ask(
    seeded: Seeded, tmp_path: Path, embedder: StaticEmbedder
) -> None:
    with FakeOpenAIServer() as model:
        model.reply("The ticket was JIRA-4821 [1].")
        env = {
            **seeded.env,
            "MIRIX_OPENAI_BASE_URL": model.base_url,
            "MIRIX_OPENAI_MODEL": model.model,
            "OPENAI_API_KEY": "test-key",
        }
        session = SessionThread(lambda: stdio_session(["--allow-write"], env))
        try:
            assert _tool_names(session) == READ_TOOLS | {"remember", "ask"}
            kept = _data(session.call("remember", {"text": "The user's tea is oolong"}))
            found = _data(session.call("search_memory", {"query": "oolong tea"}))
            assert found["results"][0]["id"] == kept["memory_id"]
            answer = _data(session.call("ask", {"question": "what is my bank card pin? zebra?"}))
        finally:
            session.close()
    assert answer["answer"] == "The ticket was JIRA-4821 [1]."
    prompt = json.dumps(model.requests[-1].body)
    # Not even a vault item the question names, nor an excluded app's memory.
    assert SECRET not in prompt and "zebra launch" not in prompt
    with (
        MemoryStore.open(
            seeded.data_dir / "mirix.db", KeySource(passphrase=PASSPHRASE), embedder
        ) as store,
        store.read() as conn,
    ):
        written = conn.execute(
            "SELECT details FROM audit_log WHERE action = 'mcp_write' ORDER BY id DESC"
        ).fetchone()
    assert json.loads(written[0])["tool"] == "remember"
    assert "oolong" not in written[0]


# -- Streamable HTTP -----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class HttpServer:
    url: str
    token: str
    process: subprocess.Popen[str]


@pytest.fixture(scope="module")
def http_server(seeded: Seeded) -> Iterator[HttpServer]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mirix_desktop", "mcp", "--http", "--port", str(port)],
        env=seeded.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # "MCP bearer token (shown only now ...)"
        token = process.stdout.readline().strip()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.1)
        yield HttpServer(f"http://127.0.0.1:{port}/mcp", token, process)
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_http_with_the_token_serves(http_server: HttpServer) -> None:
    headers = {"Authorization": f"Bearer {http_server.token}"}
    session = SessionThread(lambda: http_session(http_server.url, headers))
    try:
        found = _data(session.call("search_memory", {"query": "JIRA-4821 checkout"}))
    finally:
        session.close()
    assert found["results"][0]["app"] == "Firefox"


def test_http_without_the_token_is_401(http_server: HttpServer) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": http_server.token}):
        response = httpx2.post(http_server.url, json=body, headers=headers)
        assert response.status_code == 401, headers
    assert httpx2.get(http_server.url.replace("/mcp", "/other")).status_code == 401


def test_http_listens_on_loopback_only(http_server: HttpServer) -> None:
    listening = [
        c.laddr
        for c in psutil.Process(http_server.process.pid).net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    ]
    assert listening and all(address.ip == "127.0.0.1" for address in listening)


def test_http_refuses_a_non_loopback_host(seeded: Seeded) -> None:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(seeded.data_dir), "mcp", "--http", "--host", "0.0.0.0"]
    )
    assert result.exit_code == 2
    assert "listens on this computer only" in result.output


def test_a_wrong_key_is_a_tool_error_not_a_crash(seeded: Seeded) -> None:
    env = {**seeded.env, "MIRIX_PASSPHRASE": "not the passphrase"}
    session = SessionThread(lambda: stdio_session([], env))
    try:
        answers = [
            _error(session.call("get_memory", {"id": seeded.firefox_episode})) for _ in range(4)
        ]
    finally:
        session.close()
    # Not tried again on each call: that would add waits ("too many wrong passphrases:
    # try again in 2 s") to the next unlock, here and in the person's app.
    assert all("the passphrase is wrong" in answer for answer in answers), answers
