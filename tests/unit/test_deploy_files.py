"""The deploy files cannot run here (no container engine), so their shape is checked: they must at least
parse, name what Kubernetes requires, never carry a secret value, and run only commands the register has or is
declared to get."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from register.cli import main
from register.config import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
# Commands the deploy files run that arrive with open issues (none at present).
PLANNED: set[str] = set()


def manifests() -> list[tuple[Path, dict]]:
    return [
        (p, doc)
        for p in sorted((DEPLOY / "k8s").glob("*.yaml"))
        for doc in yaml.safe_load_all(p.read_text())
        if doc
    ]


@pytest.mark.parametrize(
    "path,doc", manifests(), ids=lambda v: v.name if isinstance(v, Path) else v.get("kind", "?")
)
def test_kubernetes_manifests_are_complete(path: Path, doc: dict) -> None:
    assert {"apiVersion", "kind", "metadata"} <= doc.keys()
    assert doc["metadata"].get("name")
    if doc["kind"] in {"Deployment", "StatefulSet", "Job"}:
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
    if doc["kind"] == "Secret":
        pytest.fail(f"{path.name} carries a Secret: secrets are provisioned, never committed")


def test_every_register_command_in_the_deploy_files_exists() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    commands = [
        svc["command"][0]
        for svc in compose["services"].values()
        if svc.get("image") == "register:latest" or "build" in svc
    ]
    for _, doc in manifests():
        if doc["kind"] in {"Deployment", "Job"}:
            commands += [c["args"][0] for c in doc["spec"]["template"]["spec"]["containers"]]
    assert commands
    unknown = {c for c in commands if c not in main.commands and c not in PLANNED}
    assert not unknown, f"deploy files run commands the register does not have: {unknown}"


def test_compose_takes_secrets_from_outside_the_repo() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    compose = yaml.safe_load(text)
    assert "${REGISTER_DB_PASSWORD:?" in text
    assert all(s["file"].startswith("./secrets/") for s in compose["secrets"].values())
    assert "/deploy/secrets/" in (PROJECT_ROOT / ".gitignore").read_text()


# ------------------------------------------------------------------ when an engine fails, what brings it back
# (docs/operations.md, "When an engine fails")

HEARTBEAT_AGE = re.compile(r"os\.stat\('([^']+)'\)\.st_mtime > (\d+)")


def test_every_long_running_compose_service_restarts_and_the_one_off_migration_does_not() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name, svc in compose["services"].items():
        if "tools" in svc.get("profiles", []):
            assert svc.get("restart", "no") == "no", f"{name} runs once: it must not restart"
        else:
            assert svc.get("restart") in ("unless-stopped", "always"), (
                f"{name} does not come back after a crash"
            )


def test_the_indexer_beats_and_its_health_checks_the_same_heartbeat_in_compose_and_kubernetes() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    indexer = compose["services"]["indexer"]
    checks = [(indexer["command"], " ".join(indexer["healthcheck"]["test"]))]
    assert "healthcheck" in compose["services"]["api"]
    [deployment] = [d for _, d in manifests() if d["metadata"]["name"] == "register-indexer"]
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    checks.append((container["args"], " ".join(container["livenessProbe"]["exec"]["command"])))
    for command, probe in checks:
        assert command[0] == "indexer" and "--heartbeat" in command
        beat = command[command.index("--heartbeat") + 1]
        found = HEARTBEAT_AGE.search(probe)
        assert found is not None and found.group(1) == beat, (command, probe)
        assert int(found.group(2)) >= 60  # longer than a pass, or a busy indexer would be killed
    mounted = {v["mountPath"] for v in container["volumeMounts"]}
    assert str(Path(checks[1][0][checks[1][0].index("--heartbeat") + 1]).parent) in mounted  # writable


def test_kubernetes_restarts_every_long_running_pod_and_probes_it() -> None:
    for path, doc in manifests():
        if doc["kind"] not in {"Deployment", "StatefulSet"}:
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod.get("restartPolicy", "Always") == "Always", f"{path.name}: {doc['metadata']['name']}"
        for container in pod["containers"]:
            assert "livenessProbe" in container, f"{path.name}: {container['name']} has no liveness probe"
