"""`prism worker --precision`: int8 (and int8-encoder) runs only where oneDNN finds VNNI; elsewhere (played
by capping oneDNN's instruction set, ONEDNN_MAX_CPU_ISA=AVX2) the worker serves fp32 and says why, and
`prism bench bart` skips int8 (or refuses when int8 was all it was asked for); an unknown precision is a usage error."""
import os
import subprocess
import time
from pathlib import Path

import pytest

from test_deploy import prism_binary

ROOT = Path(__file__).resolve().parents[2]
STUDENT = ROOT / "Tests" / "Fixtures" / "student" / "with-user"
T5 = ROOT / "Tests" / "Fixtures" / "t5" / "v1_1"


def worker(precision, extra_env=None):
    env = dict(os.environ, **(extra_env or {}))
    return subprocess.run(
        [str(prism_binary()), "worker", "--service", "prism.explain", "--model", str(STUDENT),
         "--catalog", str(STUDENT.parent / "catalog.jsonl"), "--precision", precision,
         "--broker", "tcp://127.0.0.1:9", "--log-level", "warning"],
        capture_output=True, text=True, timeout=60, env=env)


def log_until(arguments, marker, env):
    """The worker's log up to and including the first line with `marker` (no broker listens on the port:
    the worker loads, logs, and keeps trying to connect until stopped)."""
    process = subprocess.Popen([str(prism_binary()), "worker", *arguments, "--broker", "tcp://127.0.0.1:9",
                                "--log-level", "info"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if marker in line:
                break
    finally:
        process.kill()
        process.wait()
    return lines


def has_vnni():
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "avx512_vnni" in flags or "avx_vnni" in flags


def student_arguments(precision):
    return ["--service", "prism.explain", "--model", str(STUDENT), "--catalog", str(STUDENT.parent / "catalog.jsonl"),
            "--precision", precision]


@pytest.mark.parametrize("precision", ["int8", "int8-encoder"])
def test_int8_without_vnni_serves_fp32_and_says_so(precision):
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2")
    lines = log_until(student_arguments(precision), "student loaded", env)
    log = "".join(lines)
    assert "int8 needs AVX-512 VNNI or AVX-VNNI" in log and "avx2" in log and "serving fp32" in log, log
    loaded = [line for line in lines if "student loaded" in line]
    assert loaded and "precision=fp32" in loaded[0], log


@pytest.mark.skipif(not has_vnni(), reason="this CPU has no VNNI")
def test_int8_encoder_is_served_as_asked():
    lines = log_until(student_arguments("int8-encoder"), "student loaded", dict(os.environ))
    loaded = [line for line in lines if "student loaded" in line]
    assert loaded and "precision=int8-encoder" in loaded[0], "".join(lines)


def has_bf16():
    flags = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return "avx512_bf16" in flags


@pytest.mark.parametrize("precision,served", [("bf16", "fp32"), ("int8-bf16", "fp32")])
def test_bf16_without_avx512_bf16_or_vnni_serves_fp32_and_says_so(precision, served):
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2")
    lines = log_until(student_arguments(precision), "student loaded", env)
    log = "".join(lines)
    assert f"serving {served}" in log, log
    loaded = [line for line in lines if "student loaded" in line]
    assert loaded and f"precision={served}" in loaded[0], log


@pytest.mark.skipif(not has_vnni(), reason="this CPU has no VNNI")
def test_int8_bf16_without_avx512_bf16_serves_int8_encoder():
    """The cap below AVX512_CORE_BF16 (but with VNNI) plays a CPU with int8 and no bf16 products: the int8
    encoder stays, the decoder goes to float32 rather than to the slow portable bf16 loop."""
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX512_CORE_VNNI")
    lines = log_until(student_arguments("int8-bf16"), "student loaded", env)
    log = "".join(lines)
    assert "bf16 needs AVX512-BF16" in log and "serving int8-encoder" in log, log
    loaded = [line for line in lines if "student loaded" in line]
    assert loaded and "precision=int8-encoder" in loaded[0], log


@pytest.mark.skipif(not (has_vnni() and has_bf16()), reason="this CPU lacks VNNI or AVX512-BF16")
@pytest.mark.parametrize("precision", ["bf16", "int8-bf16"])
def test_bf16_is_served_as_asked(precision):
    lines = log_until(student_arguments(precision), "student loaded", dict(os.environ))
    loaded = [line for line in lines if "student loaded" in line]
    assert loaded and f"precision={precision}" in loaded[0], "".join(lines)


def test_int8_t5_teacher_without_vnni_serves_fp32_and_says_so():
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2")
    lines = log_until(["--service", "teacher", "--teacher", "t5", "--model", str(T5), "--precision", "int8"],
                      "T5 teacher loaded", env)
    log = "".join(lines)
    assert "int8 needs AVX-512 VNNI or AVX-VNNI" in log and "serving fp32" in log, log
    loaded = [line for line in lines if "T5 teacher loaded" in line]
    # The float32 teacher it fell back to, recorded as such.
    assert loaded and "teacher_id=t5:v1_1" in loaded[0] and "@int8" not in loaded[0], log


def test_bench_refuses_int8_alone_without_vnni():
    env = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2")
    alone = subprocess.run([str(prism_binary()), "bench", "bart", "--precision", "int8"],
                           capture_output=True, text=True, timeout=60, env=env)
    assert alone.returncode != 0
    assert "int8 needs AVX-512 VNNI or AVX-VNNI" in alone.stdout + alone.stderr, alone.stderr


def test_unknown_precision_is_a_usage_error():
    result = worker("fp8")
    assert result.returncode != 0
    assert "fp8" in result.stderr and "precision" in result.stderr, result.stderr


def test_a_model_given_to_an_echo_worker_is_refused():
    """A student folder passed to a worker whose service name picks the echo handler used to be ignored
    silently: every request was answered with its own bytes."""
    result = subprocess.run(
        [str(prism_binary()), "worker", "--service", "explain.fp32", "--model", str(STUDENT),
         "--catalog", str(STUDENT.parent / "catalog.jsonl"), "--broker", "tcp://127.0.0.1:9", "--log-level", "warning"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "--model" in result.stderr and "echo handler" in result.stderr and "--handler explain" in result.stderr, result.stderr
