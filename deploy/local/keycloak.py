"""A throwaway real Keycloak for tests and local work, from Keycloak's server distribution on Maven Central.

    python deploy/local/keycloak.py  # the register's test realms: prints its URL, stops on Ctrl-C

The distribution (`org.keycloak:keycloak-quarkus-dist`, a zip) is fetched once with Maven into the same cache
as the Elasticsearch node (deploy/local/esnode.py), unzipped and *built* there once (`kc.sh build`: Quarkus'
augmentation, minutes on a busy machine, so never per run). Each run gets its own home in a temporary
directory: copies of `bin/` and `conf/`, links to the cached, read-only `lib/`, `themes/` and `providers/`,
and its own `data/` (the H2 file database and the realms to import). It runs `kc.sh start --optimized` over
plain HTTP on a free loopback port, imports the realms in auth/ (test-only users and passwords), and is ready
once the register realm's discovery document answers.

Keycloak runs as an unprivileged user when started by root, with a 512 MB heap and only the C1 compiler. A
bootstrap administrator (`admin`, a random password made for the run, never stored) is there for the admin
REST API. A watchdog process stops the server and removes its files if the process that started it dies
without stopping it (killed, even with SIGKILL).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from esnode import cache_dir, free_port

VERSION = os.environ.get("REGISTER_KEYCLOAK_VERSION", "26.7.3")
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{VERSION}:zip"
USER = "register-kc"
REPO = Path(__file__).resolve().parents[2]
REALM_FILES = [
    REPO / "auth" / "keycloak" / "register-realm.json",
    REPO / "auth" / "keycloak" / "register-elsewhere-realm.json",
]
# Build-time options, baked into the cached distribution by `kc.sh build`; each run starts `--optimized`.
BUILD_OPTIONS = ["--db=dev-file", "--health-enabled=false", "--metrics-enabled=false"]
BUILT_MARKER = ".register-built"


class KeycloakError(RuntimeError):
    pass


def java_home() -> Path:
    """Keycloak 26 supports OpenJDK 17, 21 and 25."""
    configured = os.environ.get("REGISTER_KC_JAVA_HOME")
    if configured:
        return Path(configured)
    for pattern in (
        "/usr/lib/jvm/java-17-openjdk*",
        "/usr/lib/jvm/java-21-openjdk*",
        "/usr/lib/jvm/temurin-21*",
        "/usr/lib/jvm/java-25-openjdk*",
        "/usr/lib/jvm/temurin-25*",
    ):
        for candidate in sorted(glob.glob(pattern)):
            if (Path(candidate) / "bin" / "java").exists():
                return Path(candidate)
    raise KeycloakError(
        "no JDK 17, 21 or 25 found for Keycloak: install OpenJDK 17 or set REGISTER_KC_JAVA_HOME"
    )


def _restore_modes(root: Path) -> None:
    """zipfile drops permissions: scripts executable, everything readable by the unprivileged user."""
    for path in [root, *root.rglob("*")]:
        if path.is_dir() or path.suffix == ".sh" or path.parent.name == "bin":
            path.chmod(0o755)
        else:
            path.chmod(0o644)


def distribution() -> Path:
    """The unpacked and built distribution: fetched with Maven, unzipped and built on first use, then only
    read."""
    root = cache_dir()
    home = root / f"keycloak-{VERSION}"
    if (home / BUILT_MARKER).exists() and (home / BUILT_MARKER).read_text() == " ".join(BUILD_OPTIONS):
        return home
    root.mkdir(parents=True, exist_ok=True)
    os.chmod(root, 0o755)
    archive = root / f"keycloak-quarkus-dist-{VERSION}.zip"
    if not archive.exists():
        if not shutil.which("mvn"):
            raise KeycloakError("Maven (mvn) is needed to fetch Keycloak's distribution from Maven Central")
        staging_zip = Path(tempfile.mkdtemp(prefix="kc-fetch-", dir=root))
        result = subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "dependency:copy",
                f"-Dartifact={ARTIFACT}",
                f"-DoutputDirectory={staging_zip}",
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        fetched = staging_zip / archive.name
        if result.returncode != 0 or not fetched.exists():
            shutil.rmtree(staging_zip, ignore_errors=True)
            raise KeycloakError(
                f"fetching {ARTIFACT} with Maven failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        fetched.chmod(0o644)
        fetched.replace(archive)  # atomic: another run never sees half a zip
        shutil.rmtree(staging_zip, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix="kc-unpack-", dir=root))
    try:
        with zipfile.ZipFile(archive) as z:
            z.extractall(staging)
        unpacked = staging / f"keycloak-{VERSION}"
        _restore_modes(unpacked)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "JAVA_HOME": str(java_home())}
        result = subprocess.run(
            [str(unpacked / "bin" / "kc.sh"), "build", *BUILD_OPTIONS],
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if result.returncode != 0:
            raise KeycloakError(f"kc.sh build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        _restore_modes(unpacked)
        (unpacked / BUILT_MARKER).write_text(" ".join(BUILD_OPTIONS))
        (unpacked / BUILT_MARKER).chmod(0o644)
        if home.exists():  # an older build, or another run finished first: keep the complete one
            if (home / BUILT_MARKER).exists() and (home / BUILT_MARKER).read_text() == " ".join(
                BUILD_OPTIONS
            ):
                return home
            shutil.rmtree(home, ignore_errors=True)
        try:
            unpacked.rename(home)
        except OSError:
            if not (home / BUILT_MARKER).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return home


def ensure_user() -> None:
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER], check=True
        )


# Runs beside the server: when the process that started it is gone without stopping it, stop the server.
_WATCHDOG = """
import os, shutil, signal, sys, time
parent, group, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def alive(pid):  # a zombie (killed, not yet reaped by whoever inherited it) is not alive
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
while alive(parent) and alive(group):
    time.sleep(1)
if alive(group):
    try:
        os.killpg(group, signal.SIGTERM)
        for _ in range(30):
            time.sleep(1)
            if not alive(group):
                break
        else:
            os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass
shutil.rmtree(base, ignore_errors=True)
"""


def start_watchdog(group: int, base: Path) -> subprocess.Popen[bytes]:
    """A process that, once this one is gone, stops process group `group` (TERM, then KILL) and removes
    `base`."""
    return subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(group), str(base)],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


class KeycloakServer:
    def __init__(self, realm_files: list[Path] | None = None, heap: str = "512m") -> None:
        self.realm_files = realm_files or REALM_FILES
        self.heap = heap
        self.port = free_port()
        self.management_port = free_port()
        self.admin_user = "admin"
        self.admin_password = secrets.token_urlsafe(24)  # this run only, never written down
        self.as_root = os.geteuid() == 0
        self.base: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.watchdog: subprocess.Popen[bytes] | None = None
        self._console: Any = None
        self.started_seconds: float | None = None
        self.cancelled = False  # set by `stop` while `start` runs in another thread: do not start after all

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def issuer(self, realm: str = "register") -> str:
        return f"{self.url}/realms/{realm}"

    def _log_tail(self) -> str:
        console = self.base / "console.log" if self.base else None
        return console.read_text(errors="replace")[-4000:] if console and console.exists() else ""

    def _make_home(self, dist: Path) -> Path:
        self.base = Path(tempfile.mkdtemp(prefix="register-kc-"))
        home = self.base / "keycloak"
        home.mkdir()
        for name in ("bin", "conf"):
            shutil.copytree(dist / name, home / name, symlinks=True)
        for name in ("lib", "themes", "providers", "version.txt"):
            if (dist / name).exists():
                (home / name).symlink_to(dist / name)
        (home / "data" / "import").mkdir(parents=True)
        for realm in self.realm_files:
            shutil.copy(realm, home / "data" / "import" / realm.name)
        os.chmod(self.base, 0o755)
        if self.as_root:
            ensure_user()
            for path in [self.base, *self.base.rglob("*")]:
                if not path.is_symlink():
                    shutil.chown(path, USER, USER)
        return home

    def start(self, timeout: float = 600) -> str:
        began = time.monotonic()
        dist = distribution()
        java = java_home()
        home = self._make_home(dist)
        if self.cancelled:
            raise KeycloakError("stopped before it started")
        cmd = [
            str(home / "bin" / "kc.sh"),
            "start",
            "--optimized",
            "--import-realm",
            "--http-enabled=true",
            "--http-host=127.0.0.1",
            f"--http-port={self.port}",
            f"--http-management-port={self.management_port}",
            "--hostname-strict=false",
            "--cache=local",
            "--log-level=warn,org.keycloak.exportimport:info,io.quarkus:info",
        ]
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "JAVA_HOME": str(java),
            "JAVA_OPTS_KC_HEAP": f"-Xms64m -Xmx{self.heap}",
            # C1 only: a short-lived test server otherwise spends its start-up CPU on C2 compilation (measured
            # on 2 busy cores: ready in 92 s and 426 MB instead of 161 s and 573 MB)
            "JAVA_OPTS_APPEND": os.environ.get("REGISTER_KC_JAVA_OPTS_APPEND", "-XX:TieredStopAtLevel=1"),
            "KC_BOOTSTRAP_ADMIN_USERNAME": self.admin_user,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": self.admin_password,
        }
        if self.as_root:
            # the password travels in the environment of runuser's `env`, not on a command line others could
            # read
            cmd = [
                "runuser",
                "-u",
                USER,
                "--",
                "env",
                *[f"{k}={v}" for k, v in env.items() if not k.startswith("KC_BOOTSTRAP")],
                *cmd,
            ]
        self._console = (self.base / "console.log").open("ab")  # type: ignore[operator]
        self.process = subprocess.Popen(
            cmd, env=env, stdout=self._console, stderr=subprocess.STDOUT, start_new_session=True, cwd=home
        )
        self.watchdog = start_watchdog(self.process.pid, self.base)  # type: ignore[arg-type]
        deadline = time.monotonic() + timeout
        ready = [f"{self.issuer(r)}/.well-known/openid-configuration" for r in self._realm_names()]
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self._log_tail()
                self.stop()
                raise KeycloakError(
                    f"Keycloak exited with {self.process.returncode if self.process else '?'}:\n{tail}"
                )
            try:
                for url in ready:
                    with urllib.request.urlopen(url, timeout=3) as r:
                        r.read()
                self.started_seconds = time.monotonic() - began
                return self.url
            except OSError:
                time.sleep(0.5)
        tail = self._log_tail()
        self.stop()
        raise KeycloakError(f"Keycloak did not become ready in {timeout:.0f}s:\n{tail}")

    def _realm_names(self) -> list[str]:
        import json

        return [json.loads(p.read_text())["realm"] for p in self.realm_files]

    def memory_bytes(self) -> int:
        """Resident memory of the server's processes (the JVM and its launcher scripts)."""
        if self.process is None:
            return 0
        total = 0
        for status in glob.glob("/proc/[0-9]*/status"):
            try:
                fields = dict(
                    line.split(":", 1) for line in Path(status).read_text().splitlines() if ":" in line
                )
                if os.getpgid(int(status.split("/")[2])) == self.process.pid:
                    total += int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
            except (OSError, ValueError):
                continue
        return total

    def stop(self) -> None:
        self.cancelled = True
        if self.process is not None and self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
            except ProcessLookupError:
                pass
        if self.watchdog is not None and self.watchdog.poll() is None:
            self.watchdog.terminate()
            self.watchdog.wait(10)
        if self._console is not None:
            self._console.close()
            self._console = None
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)


if __name__ == "__main__":
    from running import serve_until_stopped

    server = KeycloakServer()
    print(
        f"admin console: user {server.admin_user}, password {server.admin_password} (this run only)",
        file=sys.stderr,
        flush=True,
    )
    serve_until_stopped(server)
