"""A throwaway real Elasticsearch node for tests and local work, from Elastic's test distribution on Maven
Central.

    python deploy/local/esnode.py      # start one, print its URL, stop on Ctrl-C

The integ-test distribution is the real server with its standard modules and no bundled JDK (the 8.19 build
also carries X-Pack; its security is switched off for this loopback-only node). It is fetched once with Maven
into a cache outside the work tree, unzipped, and each run starts a single node on a free loopback port with
its own temporary config, data and log directories, a small heap and the disk watermarks off. Elasticsearch
refuses to run as root: as root the node runs as an unprivileged user created here. The newest release on
Maven Central is 8.19.x (9.x is not published there), which runs on OpenJDK 17.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

VERSION = os.environ.get("REGISTER_ES_VERSION", "8.19.21")
ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{VERSION}:zip"
USER = "register-es"


class NodeError(RuntimeError):
    pass


def cache_dir() -> Path:
    """World-readable when root (the node runs as another user and cannot enter /root)."""
    configured = os.environ.get("REGISTER_CACHE_DIR")
    if configured:
        return Path(configured)
    if os.geteuid() == 0:
        return Path("/var/cache/register-test")
    return Path.home() / ".cache" / "register"


def java_home() -> Path:
    configured = os.environ.get("REGISTER_ES_JAVA_HOME")
    if configured:
        return Path(configured)
    for pattern in (
        "/usr/lib/jvm/java-17-openjdk*",
        "/usr/lib/jvm/java-21-openjdk*",
        "/usr/lib/jvm/temurin-21*",
        "/usr/lib/jvm/temurin-*",
    ):
        for candidate in sorted(glob.glob(pattern)):
            if (Path(candidate) / "bin" / "java").exists():
                return Path(candidate)
    java = shutil.which("java")
    if java:
        return Path(java).resolve().parents[1]
    raise NodeError("no JDK found for Elasticsearch: install OpenJDK 17 or set REGISTER_ES_JAVA_HOME")


def distribution() -> Path:
    """The unpacked distribution, fetched with Maven and unzipped on first use."""
    root = cache_dir()
    home = root / f"elasticsearch-{VERSION}"
    if (home / "bin" / "elasticsearch").exists():
        return home
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    archive = root / f"elasticsearch-{VERSION}.zip"
    if not archive.exists():
        if not shutil.which("mvn"):
            raise NodeError(
                "Maven (mvn) is needed to fetch Elasticsearch's test distribution from Maven Central"
            )
        result = subprocess.run(
            ["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={root}"],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if result.returncode != 0 or not archive.exists():
            raise NodeError(
                f"fetching {ARTIFACT} with Maven failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
    staging = Path(tempfile.mkdtemp(prefix="es-unpack-", dir=root))
    with zipfile.ZipFile(archive) as z:
        z.extractall(staging)
    unpacked = staging / f"elasticsearch-{VERSION}"
    for path in unpacked.rglob("*"):  # zipfile drops permissions: restore what a server needs
        if path.is_dir() or path.parent.name == "bin" or path.suffix in (".sh",) or "native" in path.parts:
            path.chmod(0o755)
        else:
            path.chmod(0o644)
    unpacked.rename(home)
    shutil.rmtree(staging, ignore_errors=True)
    return home


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_user() -> None:
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True
        )


class ElasticsearchNode:
    def __init__(
        self,
        heap: str = "512m",
        max_heap: str = "1g",
        *,
        base: Path | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        """`base`: the node's own directory (default: a new temporary one). `settings`: the cluster's settings
        in place of the single-node ones (`discovery.type=single-node`); escluster.py gives each of its nodes
        these."""
        self.home = distribution()
        self.java = java_home()
        self.port = free_port()
        self.transport_port = free_port()
        self.base = base or Path(tempfile.mkdtemp(prefix="register-es-"))
        self.base.mkdir(parents=True, exist_ok=True)
        self.settings = (
            settings
            if settings is not None
            else {"discovery.type": "single-node", "cluster.name": "register-test"}
        )
        self.heap, self.max_heap = heap, max_heap
        self.as_root = os.geteuid() == 0
        self.process: subprocess.Popen[bytes] | None = None
        self._console: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _log_tail(self) -> str:
        logs = sorted((self.base / "logs").glob("*.log"))
        console = self.base / "console.log"
        text = console.read_text(errors="replace")[-3000:] if console.exists() else ""
        return text + "".join(p.read_text(errors="replace")[-3000:] for p in logs[-1:])

    def start(self, timeout: float = 180) -> str:
        """Start the node (again, after `pause`, on the same data and port)."""
        self.launch()
        return self.wait_healthy(timeout)

    def launch(self) -> None:
        """Start the node's process without waiting for it (a cluster's nodes must all be launched before any
        of them can elect a master and answer)."""
        conf = self.base / "config"
        if not conf.exists():
            shutil.copytree(self.home / "config", conf)
            for sub in ("data", "logs", "tmp"):
                (self.base / sub).mkdir()
        os.chmod(self.base, 0o755)
        cmd = [
            str(self.home / "bin" / "elasticsearch"),
            "-E",
            "network.host=127.0.0.1",
            "-E",
            f"http.port={self.port}",
            "-E",
            f"transport.port={self.transport_port}",
            "-E",
            f"path.data={self.base / 'data'}",
            "-E",
            f"path.logs={self.base / 'logs'}",
            "-E",
            "cluster.routing.allocation.disk.threshold_enabled=false",
            "-E",
            "action.destructive_requires_name=false",
            # This 8.19 test distribution carries X-Pack security, which would auto-enable TLS on first start:
            # the node is loopback-only and thrown away, so security is off (production runs with it on:
            # deploy/README.md).
            "-E",
            "xpack.security.enabled=false",
            *[arg for key, value in self.settings.items() for arg in ("-E", f"{key}={value}")],
        ]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "ES_JAVA_HOME": str(self.java),
            "ES_PATH_CONF": str(conf),
            "ES_JAVA_OPTS": f"-Xms{self.heap} -Xmx{self.max_heap} -XX:-HeapDumpOnOutOfMemoryError",
            "ES_TMPDIR": str(self.base / "tmp"),
        }
        if self.as_root:
            ensure_user()
            for path in [self.base, *self.base.rglob("*")]:
                shutil.chown(path, USER, USER)
            cmd = ["runuser", "-u", USER, "--", "env", *[f"{k}={v}" for k, v in env.items()], *cmd]
        self._console = (self.base / "console.log").open("ab")
        self.process = subprocess.Popen(
            cmd, env=env, stdout=self._console, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_healthy(self, timeout: float = 180, query: str = "wait_for_status=yellow") -> str:
        """Wait until the node answers with a yellow or green cluster health (`query`: more conditions, such
        as `wait_for_nodes=3`); stop it and fail with its log's tail if it has not within `timeout`."""
        assert self.process is not None, "launch the node first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NodeError(f"Elasticsearch exited with {self.process.returncode}:\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_cluster/health?{query}&timeout=1s", timeout=3) as r:
                    if json.load(r).get("status") in ("green", "yellow"):
                        return self.url
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise NodeError(f"Elasticsearch did not become healthy in {timeout:.0f}s:\n{self._log_tail()}")

    def pause(self) -> None:
        """Stop the node but keep its data, so `start` brings the same node back."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None
        if self._console is not None:
            self._console.close()
            self._console = None

    def stop(self) -> None:
        try:
            self.pause()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


if __name__ == "__main__":
    from running import serve_until_stopped

    serve_until_stopped(ElasticsearchNode())
