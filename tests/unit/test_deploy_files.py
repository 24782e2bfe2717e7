"""The deploy files cannot run here (no container engine), so their shape is checked: they must at least
parse, name what Kubernetes requires, never carry a secret value, and run only commands the register has or is
declared to get."""

from __future__ import annotations

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
