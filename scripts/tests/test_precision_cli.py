"""`prism worker --precision`: int8 serves only where oneDNN finds VNNI, and says so otherwise (a CPU
without it is played by capping oneDNN's instruction set, ONEDNN_MAX_CPU_ISA=AVX2), refusing to start
rather than registering; an unknown precision is a usage error."""
import os
import subprocess
from pathlib import Path

from test_deploy import prism_binary

ROOT = Path(__file__).resolve().parents[2]
STUDENT = ROOT / "Tests" / "Fixtures" / "student" / "with-user"


def worker(precision, extra_env=None):
    env = dict(os.environ, **(extra_env or {}))
    return subprocess.run(
        [str(prism_binary()), "worker", "--service", "prism.explain", "--model", str(STUDENT),
         "--catalog", str(STUDENT.parent / "catalog.jsonl"), "--precision", precision,
         "--broker", "tcp://127.0.0.1:9", "--log-level", "warning"],
        capture_output=True, text=True, timeout=60, env=env)


def test_int8_without_vnni_refuses_to_start():
    result = worker("int8", {"ONEDNN_MAX_CPU_ISA": "AVX2"})
    assert result.returncode != 0
    message = result.stdout + result.stderr
    assert "int8 needs AVX-512 VNNI or AVX-VNNI" in message, message
    assert "avx2" in message, message


def test_unknown_precision_is_a_usage_error():
    result = worker("fp8")
    assert result.returncode != 0
    assert "fp8" in result.stderr and "precision" in result.stderr, result.stderr
