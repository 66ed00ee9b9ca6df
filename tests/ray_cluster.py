"""A real multi-node Ray cluster on this machine for the tests: a head node and worker nodes, each a
separate `ray start --block` process with its own temporary folder, ports, CPUs and resources,
all stopped afterwards.

Nothing is simulated: the nodes register with the head's GCS, the scheduler places tasks on them,
and every process checks Ray's token authentication (on by default since Ray 2.5x). The cluster
uses its own token in its own folder rather than switching authentication off, so a driver that
connects to it must carry the token as a driver of a secured cluster does (`driver_env`).

Teardown kills each node's process group, never `ray stop`: that would stop every Ray process on
the machine, other test runs' clusters included.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

# Ray's default worker port range: the GCS and the nodes' own ports must lie outside it, or a node
# refuses them; each node then gets its own slice of it so that two nodes never race for one port.
WORKER_PORTS = (10002, 19999)
STARTED = "Ray runtime started"  # what `ray start` prints once its node has joined the cluster


def unavailable() -> str | None:
    """Why a cluster cannot be started here, or None."""
    if shutil.which("ray", path=str(Path(sys.executable).parent)) is None:
        return "Ray is not installed: pip install 'curate[ray]'"
    return None


def _free_port() -> int:
    """A free port from the kernel's ephemeral range (above 32767: outside Ray's worker ports)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Node:
    name: str
    cpus: int
    resources: dict[str, float]
    process: subprocess.Popen | None = None


class RayCluster:
    """`with RayCluster(workers={"a": 1, "b": 1}) as cluster:` a head with no CPUs (so no task can run
    on it) and one worker node per entry, with that many CPUs and a resource named after it;
    `cluster.address` is what a recipe's `executor.ray.address` takes, `cluster.driver_env` the
    environment a driver needs. A worker node's tasks see `CURATE_TEST_RAY_NODE=<name>`."""

    def __init__(self, workers: dict[str, int], start_seconds: float = 180) -> None:
        # A short path: Ray's Unix sockets live under each node's folder (socket paths are limited to ~107 bytes).
        self.root = Path(tempfile.mkdtemp(prefix="ray-"))
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.start_seconds = start_seconds
        self.head = Node("head", cpus=0, resources={})
        self.workers = [Node(name, cpus, {f"node_{name}": 1}) for name, cpus in workers.items()]
        token = self.root / "auth_token"
        token.write_text(uuid.uuid4().hex)
        token.chmod(0o600)
        self.driver_env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token),
                           "RAY_USAGE_STATS_ENABLED": "0"}
        self.driver_env.pop("RAY_AUTH_TOKEN", None)  # a token in the environment would win over the file

    def __enter__(self) -> RayCluster:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        # All nodes at once: a worker's `ray start` retries the head's GCS until it answers, and the three
        # processes' imports and agents overlap (the head alone takes ~35 s on the busy 2-core machine).
        self._launch(self.head, ["--head", f"--port={self.port}", f"--ray-client-server-port={_free_port()}",
                                 "--include-dashboard=false", f"--dashboard-port={_free_port()}"], WORKER_PORTS[0])
        for index, node in enumerate(self.workers, start=1):
            self._launch(node, [f"--address={self.address}"], WORKER_PORTS[0] + 1000 * index)
        for node in [self.head, *self.workers]:
            self._wait_started(node)

    def _launch(self, node: Node, role: list[str], first_worker_port: int) -> None:
        folder = self.root / node.name
        (folder / "tmp").mkdir(parents=True)
        resources = "{" + ",".join(f'"{k}": {v}' for k, v in node.resources.items()) + "}"
        command = [
            str(Path(sys.executable).parent / "ray"), "start", "--block", *role,
            # Every node the same address: Ray turns 127.0.0.1 into the machine's own address (on Linux it
            # never advertises loopback), and a node left to guess may pick another one than the head did.
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={node.cpus}", f"--resources={resources}", "--num-gpus=0",
            f"--temp-dir={folder}", "--object-store-memory=100000000",  # 100 MB: the tasks pass only the executor
            f"--node-manager-port={_free_port()}", f"--object-manager-port={_free_port()}",
            f"--dashboard-agent-listen-port={_free_port()}", f"--dashboard-agent-grpc-port={_free_port()}",
            f"--runtime-env-agent-port={_free_port()}", f"--metrics-export-port={_free_port()}",
            f"--min-worker-port={first_worker_port}", f"--max-worker-port={first_worker_port + 999}",
            "--disable-usage-stats", "--include-log-monitor=false",  # it only copies worker logs to drivers
        ]
        # TMPDIR: datatrove's Ray tasks write their logs under the temporary folder before copying them
        # into the run; per node, so two nodes (or two test runs) never write the same file.
        env = {**self.driver_env, "TMPDIR": str(folder / "tmp"), "CURATE_TEST_RAY_NODE": node.name}
        log = (self.root / f"{node.name}.log").open("wb")
        # Its own session: the node's raylet, GCS and workers are its children, killed with its group.
        node.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        log.close()

    def _wait_started(self, node: Node) -> None:
        log = self.root / f"{node.name}.log"
        deadline = time.monotonic() + self.start_seconds
        while STARTED not in log.read_text(errors="replace"):
            if node.process.poll() is not None:
                raise RuntimeError(f"ray node {node.name} exited ({node.process.returncode}): {self._tail(log)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"ray node {node.name} not up after {self.start_seconds:.0f} s: {self._tail(log)}")
            time.sleep(0.5)

    @staticmethod
    def _tail(log: Path) -> str:
        return " | ".join(log.read_text(errors="replace").strip().splitlines()[-5:])

    def stop(self) -> None:
        """SIGKILL every node's process group. Nothing of a test cluster needs a clean shutdown, and a
        graceful one only waits: after SIGTERM a worker node took >15 s to exit on the busy 2-core machine
        and the head 34 s (it waits out a 30 s drain with nothing left to drain). Every Ray process of a
        node is in its group (`ray start` leads its own session, so Ray's reaper does not move them out)."""
        running = [node.process for node in [*self.workers, self.head] if node.process and node.process.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        for process in running:
            process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
