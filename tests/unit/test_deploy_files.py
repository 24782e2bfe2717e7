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


def pod_spec(doc: dict) -> dict:
    """The pod a workload runs (a CronJob's is inside its job template)."""
    spec = doc["spec"]["jobTemplate"]["spec"] if doc["kind"] == "CronJob" else doc["spec"]
    return spec["template"]["spec"]


def workloads() -> list[dict]:
    return [d for _, d in manifests() if d["kind"] in {"Deployment", "StatefulSet", "Job", "CronJob"}]


@pytest.mark.parametrize(
    "path,doc", manifests(), ids=lambda v: v.name if isinstance(v, Path) else v.get("kind", "?")
)
def test_kubernetes_manifests_are_complete(path: Path, doc: dict) -> None:
    assert {"apiVersion", "kind", "metadata"} <= doc.keys()
    assert doc["metadata"].get("name")
    if doc["kind"] in {"Deployment", "StatefulSet", "Job", "CronJob"}:
        pod = pod_spec(doc)
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
    commands += [c["args"][0] for _, _, c in register_workloads()]
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


# ------------------------------------------------------------------ scheduled work, anchors, metrics
# (docs/operations.md, "Scheduled jobs" and "Audit")


def register_workloads() -> list[tuple[str, dict, dict]]:
    """(name, pod, container) of every Kubernetes workload that runs the register's image."""
    return [
        (d["metadata"]["name"], pod_spec(d), c)
        for d in workloads()
        for c in pod_spec(d)["containers"]
        if c["image"].startswith("register:")
    ]


def test_the_scheduled_jobs_exist_in_kubernetes_and_compose_and_never_overlap() -> None:
    jobs = {d["metadata"]["name"]: d for d in workloads() if d["kind"] == "CronJob"}
    scheduled = {tuple(pod_spec(d)["containers"][0]["args"][:2]) for d in jobs.values()}
    wanted = {
        ("audit", "verify"),
        ("audit", "seal"),
        ("retention", "run"),
        ("events", "prune"),
        ("outbox", "prune"),
    }
    assert wanted <= scheduled and {a for a, _ in scheduled} >= {"quality", "backup"}
    # The consistency checks mend what they find and still fail the job, so an operator hears of a write path
    # that missed a refresh or an index update; the caseload facts are mended before the quality run reads.
    checks = {pod_spec(d)["containers"][0]["args"][0]: d for d in jobs.values()}
    for check in ("facts-check", "index-check"):
        assert {"--repair", "--strict"} <= set(pod_spec(checks[check])["containers"][0]["args"]), check
    assert at(checks["facts-check"]) < at(checks["quality"])
    for name, job in jobs.items():
        assert job["spec"]["concurrencyPolicy"] == "Forbid", f"{name}: a slow run must not start a second"
        assert pod_spec(job)["restartPolicy"] == "Never"
        assert all("--json" in c["args"] for c in pod_spec(job)["containers"]), f"{name}: a job logs JSON"
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    tools = {tuple(s["command"][:2]) for s in compose.values() if "tools" in s.get("profiles", [])}
    assert {("audit", "verify"), ("retention", "run"), ("events", "prune"), ("outbox", "prune")} <= tools
    assert {c for c, _ in tools} >= {"quality", "backup", "db", "facts-check", "index-check"}


def at(cron_job: dict) -> tuple[int, int]:
    """(hour, minute) of a daily CronJob's schedule."""
    minute, hour, *_ = cron_job["spec"]["schedule"].split()
    return int(hour), int(minute)


def test_every_process_that_seals_or_verifies_sees_the_same_audit_anchors() -> None:
    """A tail cut after the latest anchor is seen only if every sealer appends to, and every verifier reads,
    the same anchors: one path, on one shared volume, in every register pod and compose service."""
    [config] = [d for _, d in manifests() if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "register"]
    anchor_file = Path(config["data"]["REGISTER_AUDIT_ANCHOR_FILE"])
    for name, pod, container in register_workloads():
        if container["args"][0] in {"db", "indexer"}:
            continue  # migrations and the indexer write no audit events
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        assert str(anchor_file.parent) in mounts, f"{name} does not mount the anchors"
        [volume] = [v for v in pod["volumes"] if v["name"] == mounts[str(anchor_file.parent)]]
        assert volume["persistentVolumeClaim"]["claimName"] == "register-audit-anchors", name
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    for name, svc in compose["services"].items():
        if not (svc.get("image") == "register:latest" or "build" in svc) or svc["command"][0] in {
            "db",
            "indexer",
        }:
            continue
        assert svc["environment"]["REGISTER_AUDIT_ANCHOR_FILE"] == str(anchor_file), name
        assert f"anchors:{anchor_file.parent}" in svc["volumes"], name


def test_the_nightly_backup_keeps_each_night_apart_and_its_keys_on_another_volume() -> None:
    [job] = [d for d in workloads() if d["metadata"]["name"] == "register-backup"]
    [container] = pod_spec(job)["containers"]
    args = container["args"]
    assert args[0] == "backup" and "--dated" in args  # `register backup --dated`: a new directory each night
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    dumps, keys = args[1], args[args.index("--keys-to") + 1]
    assert dumps in mounts and keys in mounts and mounts[dumps] != mounts[keys]
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["REGISTER_BACKUP_PASSPHRASE"]["valueFrom"]  # never a value in the file
    assert "postgresql-client-16" in (DEPLOY / "Dockerfile").read_text()  # pg_dump of the server's version


def test_the_api_is_scraped_with_a_token_from_a_secret() -> None:
    [api] = [c for n, _, c in register_workloads() if n == "register-api"]
    env = {e["name"]: e for e in api["env"]}
    assert env["REGISTER_METRICS_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "register-metrics"
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    [job] = scrape["scrape_configs"]
    assert job["metrics_path"] == "/metrics" and job["authorization"]["credentials_file"]
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert compose["x-register"]["environment"]["REGISTER_METRICS_TOKEN"].startswith(
        "${REGISTER_METRICS_TOKEN:?"
    )
