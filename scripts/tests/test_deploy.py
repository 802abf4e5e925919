"""Deploy/ must not drift from the code: every manifest parses (Kubernetes objects validate against
the API schemas offline), every `prism` command and flag the manifests use exists, every file they
mount exists, and every metric the dashboard and the autoscaler query is one the code exports."""
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "Deploy"


def prism_binary() -> Path:
    explicit = os.environ.get("PRISM_BIN")
    candidate = Path(explicit) if explicit else ROOT / ".build" / "debug" / "prism"
    if not candidate.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"no prism binary at {candidate} (scripts/test.sh sets PRISM_BIN)")
        pytest.skip(f"no prism binary at {candidate}; build it or set PRISM_BIN")
    return candidate


def k8s_documents():
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                yield path, doc


def compose():
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def prism_invocations():
    """(where, [args after `prism`]) for every place Deploy/ runs the binary."""
    found = []
    for path, doc in k8s_documents():
        spec = doc.get("spec", {}).get("template", {}).get("spec", {})
        for container in spec.get("containers", []):
            if "args" in container:
                found.append((f"{path.name}:{doc['metadata']['name']}", container["args"]))
    for name, service in compose()["services"].items():
        if service.get("image") == "prism":
            found.append((f"compose.yaml:{name}", service["command"]))
            test = service.get("healthcheck", {}).get("test", [])
            if test[:2] == ["CMD", "prism"]:
                found.append((f"compose.yaml:{name}:healthcheck", test[2:]))
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        for line in unit.read_text().splitlines():
            if line.startswith("ExecStart="):
                words = shlex.split(line.split("=", 1)[1])
                found.append((unit.name, words[1:]))
    return found


def test_every_manifest_parses_and_kubernetes_objects_validate():
    docs = list(k8s_documents())
    kinds = {doc["kind"] for _, doc in docs}
    assert {"Deployment", "Service", "PodDisruptionBudget", "ScaledObject"} <= kinds
    compose()
    for extra in ["prometheus.yml", "prometheus-compose.yml", "grafana/provisioning/datasources/prometheus.yaml",
                  "grafana/provisioning/dashboards/prism.yaml"]:
        yaml.safe_load((DEPLOY / extra).read_text())
    validator = Path(sys.executable).parent / "kubernetes-validate"
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        run = subprocess.run([str(validator), "-k", "1.32.0", "--strict", str(path)], capture_output=True, text=True)
        # Custom resources (KEDA's ScaledObject) have no schema here: a warning, not a failure.
        assert run.returncode == 0, f"{path.name}: {run.stdout}{run.stderr}"


def test_every_command_and_flag_the_manifests_use_exists():
    prism = prism_binary()
    invocations = prism_invocations()
    assert len(invocations) >= 6
    helps = {}
    for where, args in invocations:
        command = args[0]
        if command not in helps:
            run = subprocess.run([str(prism), command, "--help"], capture_output=True, text=True)
            assert run.returncode == 0, f"{where}: `prism {command}` does not exist: {run.stderr}"
            helps[command] = run.stdout
        for flag in [a.split("=", 1)[0] for a in args if a.startswith("--")]:
            assert re.search(re.escape(flag) + r"\b", helps[command]), f"{where}: `prism {command}` has no {flag}"


def test_the_fleet_wiring_is_consistent():
    services = compose()["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", []):
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
    # Workers reach both brokers' backends, and each broker's Service exposes its ports.
    names = {doc["metadata"]["name"] for _, doc in k8s_documents() if doc["kind"] == "Service"}
    for path, doc in k8s_documents():
        if doc["kind"] != "Deployment" or doc["metadata"]["name"].startswith("prism-broker"):
            continue
        args = doc["spec"]["template"]["spec"]["containers"][0]["args"]
        endpoints = args[args.index("--broker") + 1].split(",")
        hosts = {re.match(r"tcp://([^:]+):", e).group(1) for e in endpoints}
        assert hosts <= names and len(hosts) == 2, f"{doc['metadata']['name']}: {endpoints}"
    scaled = next(doc for _, doc in k8s_documents() if doc["kind"] == "ScaledObject")
    targets = {doc["metadata"]["name"] for _, doc in k8s_documents() if doc["kind"] == "Deployment"}
    assert scaled["spec"]["scaleTargetRef"]["name"] in targets


def exported_metrics():
    names = set()
    for source in (ROOT / "Sources").rglob("*.swift"):
        names.update(re.findall(r'label: "(prism_[a-z_]+)"', source.read_text()))
    return names


def test_dashboard_and_autoscaler_query_metrics_the_code_exports():
    import json
    exported = exported_metrics()
    assert "prism_broker_queue_depth" in exported
    dashboard = json.loads((DEPLOY / "grafana" / "prism-fleet.json").read_text())
    queries = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    queries += [doc["spec"]["triggers"][0]["metadata"]["query"] for _, doc in k8s_documents() if doc["kind"] == "ScaledObject"]
    for query in queries:
        for name in re.findall(r"\b(prism_[a-z_]+)", query):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            assert base in exported, f"{name} (in {query!r}) is not exported by the code"


def dockerfile_instructions():
    """(instruction, arguments) of Deploy/Dockerfile, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in (DEPLOY / "Dockerfile").read_text().splitlines():
        if raw.strip().startswith("#") and not current:
            continue
        current += raw.rstrip("\\").strip() + " "
        if not raw.rstrip().endswith("\\"):
            if current.strip():
                word, _, rest = current.strip().partition(" ")
                lines.append((word.upper(), rest.strip()))
            current = ""
    return lines


# Present in debian:bookworm-slim itself (apt needs them), so the runtime stage need not install them.
BASE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}


def test_the_dockerfile_copies_what_exists_and_installs_what_the_binary_links():
    """Docker cannot run here, so the image is checked offline: every COPY source exists, every
    COPY --from names a stage, and every shared library the `prism` binary needs (readelf NEEDED,
    the Swift runtime aside: the image links it statically) comes from a package the runtime stage
    installs (dpkg -S on the library the host resolves)."""
    instructions = dockerfile_instructions()
    stages = [args.split()[-1] for word, args in instructions if word == "FROM" and " AS " in f" {args.upper()} "]
    runtime_packages, stage_packages = set(), set()
    for word, args in instructions:
        if word == "FROM":
            stage_packages = set()
        if word == "COPY":
            parts = args.split()
            sources = [p for p in parts[:-1] if not p.startswith("--")]
            if any(p.startswith("--from=") for p in parts):
                stage = next(p for p in parts if p.startswith("--from=")).split("=", 1)[1]
                assert stage in stages, f"COPY --from={stage}: no such stage ({stages})"
            else:
                for source in sources:
                    assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        if word == "RUN" and "apt-get install" in args:
            words = args.split("apt-get install", 1)[1].split("&&")[0].split()
            stage_packages |= {w for w in words if not w.startswith("-")}
        runtime_packages = stage_packages  # the last stage's, once the loop ends
    assert "libzmq5" in runtime_packages, runtime_packages
    for tool in ("readelf", "dpkg", "ldconfig"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            pytest.skip(f"{tool} is not available")
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                        subprocess.run(["readelf", "-d", str(prism_binary())], capture_output=True, text=True, check=True).stdout)
    assert "libzmq.so.5" in needed and "libopenblas.so.0" in needed, needed
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    for library in needed:
        if library.startswith(("libswift", "libFoundation", "libdispatch", "libBlocksRuntime", "ld-linux")):
            continue  # the Swift runtime: --static-swift-stdlib in the image
        match = re.search(rf"^\s*{re.escape(library)} .*=> (\S+)$", cache, re.MULTILINE)
        assert match, f"{library}: not resolvable on this host"
        # dpkg records /lib or /usr/lib paths depending on the package (merged /usr): try both spellings.
        path, real = match.group(1), os.path.realpath(match.group(1))
        candidates = {path, real} | {c.removeprefix("/usr") for c in (path, real)} | {"/usr" + c for c in (path, real) if not c.startswith("/usr")}
        owners = [subprocess.run(["dpkg", "-S", c], capture_output=True, text=True) for c in sorted(candidates)]
        owner = next((o for o in owners if o.returncode == 0), None)
        assert owner, f"{library}: no Debian package owns {path} ({real})"
        package = owner.stdout.split(":", 1)[0]
        assert package in runtime_packages | BASE_PACKAGES, \
            f"the binary needs {library} from {package}, which the Dockerfile's runtime stage does not install"
