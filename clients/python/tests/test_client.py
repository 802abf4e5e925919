"""prism-client against real `prism` processes: a broker, echo and sleep workers, and a Prism worker
serving the repository's tiny marked student fixture."""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "clients" / "python" / "src"))

import prism_client  # noqa: E402
from prism_client import (AsyncClient, Client, DeadlineExceeded, ExplainRequest, InvalidArgument,  # noqa: E402
                          PrismError, Unavailable)


def prism_binary() -> str:
    explicit = os.environ.get("PRISM_BIN")
    candidate = Path(explicit) if explicit else ROOT / ".build" / "debug" / "prism"
    if not candidate.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"no prism binary at {candidate} (scripts/test.sh sets PRISM_BIN)")
        pytest.skip(f"no prism binary at {candidate}")
    return str(candidate)


@pytest.fixture(scope="module")
def fleet():
    prism = prism_binary()
    broker = subprocess.Popen([prism, "broker", "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
                               "--grace-ms", "300", "--log-level", "error"], stdout=subprocess.PIPE, text=True)
    line = broker.stdout.readline()
    endpoints = dict(word.split("=", 1) for word in line.split() if "=" in word)
    frontend, backend = endpoints["frontend"], endpoints["backend"]
    fixture = ROOT / "Tests" / "Fixtures" / "student-marked"
    workers = [
        subprocess.Popen([prism, "worker", "--broker", backend, "--service", "echo", "--capacity", "8", "--log-level", "error"]),
        subprocess.Popen([prism, "worker", "--broker", backend, "--service", "sleep", "--sleep-ms", "2000", "--capacity", "4",
                          "--log-level", "error"]),
        subprocess.Popen([prism, "worker", "--broker", backend, "--service", "prism.explain", "--model", str(fixture / "model"),
                          "--catalog", str(fixture / "catalog.jsonl"), "--capacity", "4", "--log-level", "error"]),
    ]
    with Client(frontend) as probe:
        for _ in range(100):
            health = probe.health()
            if health and {s.service for s in health.services if s.workers > 0} >= {"echo", "sleep", "prism.explain"}:
                break
            time.sleep(0.1)
    yield frontend
    for process in workers + [broker]:
        process.kill()
        process.wait()


def test_sync_calls_echo_exact_bodies_and_raise_one_error_per_status(fleet):
    with Client(fleet) as client:
        for body in [b"hello", "héllo ✓ 日本語".encode(), b"", bytes(range(256))]:
            result = client.call("echo", body)
            assert result.body == body and result.attempts == 1 and result.worker_id
        with pytest.raises(Unavailable) as unavailable:
            client.call("no-such-service", b"x", timeout_ms=3_000)
        assert unavailable.value.code_name == "UNAVAILABLE" and unavailable.value.request_id
        with pytest.raises(DeadlineExceeded):
            client.call("sleep", b"x", timeout_ms=300)
        assert isinstance(prism_client.error_for(3, "m", "r"), InvalidArgument)


def test_typed_explain_against_the_fixture_student(fleet):
    with Client(fleet) as client:
        known = client.explain(ExplainRequest(user_id="alice", history_item_ids=["m11", "m0"], item_id="m14",
                                              ranker="als", rank=3, score=0.25))
        cold = client.explain(ExplainRequest(user_id="nobody-knows-me", history_item_ids=["m11", "m0"], item_id="m14"))
    assert known.explanation and not known.cold_start and cold.cold_start
    assert known.grounding in ("GROUNDED", "GROUNDED_BEAM", "FALLBACK")
    assert known.constrained and known.worker_id
    assert known.ranking == ("als", 3, 0.25) and cold.ranking is None, "ranking metadata is echoed as sent"
    with Client(fleet) as client, pytest.raises(PrismError) as unknown_item:
        client.explain(ExplainRequest(user_id="alice", history_item_ids=["m0"], item_id="no-such-item"))
    assert unknown_item.value.code_name in ("NOT_FOUND", "INVALID_ARGUMENT")


def test_async_client_keeps_many_requests_in_flight_on_one_socket(fleet):
    async def run():
        async with AsyncClient(fleet) as client:
            bodies = [f"request-{i}".encode() for i in range(300)]
            started = time.monotonic()
            results = await asyncio.gather(*(client.call("echo", body) for body in bodies))
            elapsed = time.monotonic() - started
            assert [r.body for r in results] == bodies
            assert len({r.request_id for r in results}) == 300
            # Four sleep calls of 2 s each overlap on a capacity-4 worker: together well under 8 s.
            started = time.monotonic()
            slept = await asyncio.gather(*(client.call("sleep", b"z", timeout_ms=10_000) for _ in range(4)))
            assert len(slept) == 4 and time.monotonic() - started < 6
            with pytest.raises(DeadlineExceeded):
                await client.call("sleep", b"late", timeout_ms=300)
            # A cancelled call sends CANCEL; the client keeps working.
            task = asyncio.ensure_future(client.call("sleep", b"cancel me", timeout_ms=10_000))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            reply = await client.explain(ExplainRequest("alice", ["m11", "m0"], "m14"))
            assert reply.explanation
            health = await client.health("echo")
            assert health.services[0].workers == 1
            return elapsed
    assert asyncio.run(run()) < 30


def test_installs_into_a_fresh_virtual_environment(tmp_path):
    """`pip install ./clients/python` in a new venv, then the package imports and builds a request."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # From a copy: pip's build leaves build/ and *.egg-info next to the sources it builds.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "clients" / "python", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    install = subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(source)],
                             capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    check = subprocess.run([str(python), "-c", "import prism_client as p; "
                            "print(len(p.ExplainRequest('u', ['1'], '2').to_proto().SerializeToString()))"],
                           capture_output=True, text=True, cwd=str(tmp_path))
    assert check.returncode == 0 and int(check.stdout) > 0, check.stderr


def test_the_ranking_service_example_explains_known_and_unknown_users(fleet, tmp_path):
    rankings = tmp_path / "rankings.jsonl"
    users = [("alice", ["m11", "m0"]), ("bob", ["m1"]), ("carol", ["m2", "m3"])]
    with open(rankings, "w") as f:
        for k, (user, history) in enumerate(users):
            f.write(json.dumps({"user_id": user, "history": history,
                                "ranked": [{"item_id": "m14", "rank": 1, "score": 0.9 - k / 10},
                                           {"item_id": "m5", "rank": 2, "score": 0.1}]}) + "\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "clients" / "python" / "src"))
    run = subprocess.run([sys.executable, str(ROOT / "clients" / "python" / "examples" / "ranking_service.py"),
                          "--broker", fleet, "--rankings", str(rankings), "--unknown-users", "1", "--show", "6",
                          "--catalog", str(ROOT / "Tests" / "Fixtures" / "student-marked" / "catalog.jsonl")],
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    picks = [line for line in lines if " pick #1 " in line]
    assert len(picks) == 3 and all("als pick #1 (score 0." in line for line in picks)
    assert any(line.startswith("user new-carol ") and "cold start: yes" in line for line in picks)
    assert any(line.startswith("user alice ") and "cold start: no" in line for line in picks)
    title = json.loads(next(line for line in open(ROOT / "Tests" / "Fixtures" / "student-marked" / "catalog.jsonl")
                            if '"m14"' in line))["title"]
    assert all(title in line for line in picks), "the picked item's title is shown"
    assert "3 explanations, 0 failed" in run.stdout
