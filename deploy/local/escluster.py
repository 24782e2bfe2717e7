"""A throwaway Elasticsearch cluster of several real nodes on loopback, for the resilience test and the
benchmark.

    python deploy/local/escluster.py      # start three nodes, print their URLs, stop on Ctrl-C

Each node is an `esnode.ElasticsearchNode` (the same integ-test distribution, user and JDK), with its own
config, data and log directories under one temporary directory, its own free HTTP and transport ports, a small
heap, the disk watermarks and security off; the nodes share a `cluster.name`, find each other through
`discovery.seed_hosts` (every node's transport port) and bootstrap the first election from
`cluster.initial_master_nodes` (every node's name). Every node is master-eligible and holds data, so the
cluster keeps a master and answers while any one node is down.

`kill(i)` ends node i with SIGKILL (no shutdown, as a crash or a pulled plug); `restart(i)` starts it again on
the same data directory and ports, and it rejoins the cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from esnode import ElasticsearchNode, NodeError


class ElasticsearchCluster:
    def __init__(self, nodes: int = 3, heap: str = "256m", name: str | None = None) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="register-escluster-"))
        os.chmod(self.base, 0o755)
        self.name = name or f"register-cluster-{self.base.name[-8:]}"
        names = [f"node-{i}" for i in range(nodes)]
        self.nodes = [ElasticsearchNode(heap, heap, base=self.base / n, settings={}) for n in names]
        seeds = ",".join(f"127.0.0.1:{n.transport_port}" for n in self.nodes)
        for node_name, node in zip(names, self.nodes, strict=True):
            node.settings = {
                "cluster.name": self.name,
                "node.name": node_name,
                "discovery.seed_hosts": seeds,
                "cluster.initial_master_nodes": ",".join(names),
            }

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    @property
    def url(self) -> str:
        """Every node's URL, separated by commas: REGISTER_ELASTICSEARCH_URL's form for a cluster."""
        return ",".join(self.urls)

    def alive(self) -> list[int]:
        return [i for i, n in enumerate(self.nodes) if n.process is not None and n.process.poll() is None]

    def health(self, query: str = "", timeout: float = 10) -> dict[str, Any]:
        """The cluster's health as the first live node reports it (`query`: e.g. `wait_for_status=green`)."""
        errors = []
        for i in self.alive():
            try:
                with urllib.request.urlopen(
                    f"{self.nodes[i].url}/_cluster/health?{query}", timeout=timeout
                ) as r:
                    return dict(json.load(r))
            except OSError as exc:
                errors.append(f"node-{i}: {exc}")
        raise NodeError(f"no node of the cluster answered its health: {errors}")

    def wait_for(self, status: str, nodes: int, timeout: float = 180) -> dict[str, Any]:
        """Wait until the cluster has `nodes` nodes and is at least `status` (yellow or green); fail with each
        live node's log tail if it has not within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        wanted = ("green",) if status == "green" else ("green", "yellow")
        last: Any = None
        while time.monotonic() < deadline:
            for i, node in enumerate(self.nodes):
                if node.process is not None and node.process.poll() is not None:
                    raise NodeError(f"node-{i} exited with {node.process.returncode}:\n{node._log_tail()}")
            try:
                last = self.health(f"wait_for_status={status}&wait_for_nodes={nodes}&timeout=2s", timeout=5)
                if last.get("status") in wanted and last.get("number_of_nodes") == nodes:
                    return dict(last)
            except (NodeError, OSError) as exc:
                last = exc
            time.sleep(0.5)
        tails = "\n".join(f"--- node-{i}\n{self.nodes[i]._log_tail()}" for i in self.alive())
        raise NodeError(
            f"the cluster was not {status} with {nodes} nodes within {timeout:.0f}s (last: {last})\n{tails}"
        )

    def start(self, timeout: float = 240) -> str:
        """Launch every node, then wait until all have joined and the cluster is yellow or green."""
        try:
            for node in self.nodes:
                node.launch()
            self.wait_for("yellow", len(self.nodes), timeout)
        except BaseException:
            self.stop()
            raise
        return self.url

    def kill(self, i: int) -> None:
        """End node i at once with SIGKILL: no shutdown, its data directory left as a crash leaves it."""
        node = self.nodes[i]
        if node.process is not None and node.process.poll() is None:
            os.killpg(node.process.pid, signal.SIGKILL)
            node.process.wait(30)
        node.process = None
        if node._console is not None:
            node._console.close()
            node._console = None

    def restart(self, i: int, timeout: float = 180) -> None:
        """Start node i again on the same data directory and ports, and wait until it has rejoined."""
        self.nodes[i].launch()
        self.wait_for("yellow", len(self.nodes), timeout)

    def stop(self) -> None:
        """Stop every node (SIGTERM, then SIGKILL) and remove the cluster's directory."""
        try:
            for node in self.nodes:
                with contextlib.suppress(OSError):
                    node.pause()
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


if __name__ == "__main__":
    from running import serve_until_stopped

    serve_until_stopped(ElasticsearchCluster())
