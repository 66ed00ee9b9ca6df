"""A real one-node Slurm cluster on loopback for the tests: munged, slurmctld and slurmd from Debian's
packages (`make slurm` installs them), started in a temporary folder with their own ports, key and
spool, and stopped afterwards.

Nothing is simulated: `sbatch` queues real job arrays, slurmd runs them with `srun`, and dependencies
(`--dependency=afterok`) are honoured by the controller. The daemons run as root (slurmd must, to start
jobs); where this machine lacks root or the packages, `unavailable()` says why.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scontrol")
PARTITION = "curate"


def unavailable() -> str | None:
    """Why a cluster cannot be started here, or None."""
    missing = [name for name in DAEMONS if shutil.which(name) is None and not Path("/usr/sbin", name).exists()]
    if missing:
        return f"Slurm is not installed ({', '.join(missing)} missing): run `make slurm`"
    if os.geteuid() != 0:
        return "slurmd must run as root to start jobs"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


def _node_memory_mb() -> int:
    with open("/proc/meminfo") as f:
        total_kb = int(next(line for line in f if line.startswith("MemTotal")).split()[1])
    return total_kb // 1024 // 2  # half the machine: jobs ask for mem-per-cpu and must fit


class SlurmCluster:
    """`with SlurmCluster() as cluster:` a running cluster; `cluster.env` is the environment its clients
    (sbatch, squeue, and curate submitting through them) need."""

    def __init__(self) -> None:
        # A short path: munge's Unix socket lives here, and socket paths are limited to ~107 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="slurm-"))
        self.node = socket.gethostname().split(".")[0]
        self.env = {**os.environ, "SLURM_CONF": str(self.root / "slurm.conf")}

    def __enter__(self) -> SlurmCluster:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start(self) -> None:
        root = self.root
        for folder in ("munge", "ctld", "d", "log"):
            (root / folder).mkdir(mode=0o700)
        key = root / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        subprocess.run([_binary("munged"), f"--key-file={key}", f"--socket={root / 'munge' / 'sock'}",
                        f"--pid-file={root / 'munge' / 'pid'}", f"--log-file={root / 'log' / 'munged.log'}",
                        f"--seed-file={root / 'munge' / 'seed'}", "--force"], check=True, capture_output=True)
        (root / "slurm.conf").write_text(self._config())
        for daemon in ("slurmctld", "slurmd"):
            subprocess.run([_binary(daemon), "-f", str(root / "slurm.conf")], check=True, capture_output=True,
                           env=self.env)
        self._wait_until_idle()

    def _config(self) -> str:
        root, cpus = self.root, os.cpu_count() or 1
        return "\n".join([
            "ClusterName=curatetest",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "AuthType=auth/munge",
            "CredType=cred/munge",
            f"AuthInfo=socket={root / 'munge' / 'sock'}",
            "SlurmUser=root",
            "SlurmdUser=root",
            f"StateSaveLocation={root / 'ctld'}",
            f"SlurmdSpoolDir={root / 'd'}",
            f"SlurmctldPidFile={root / 'ctld.pid'}",
            f"SlurmdPidFile={root / 'd.pid'}",
            f"SlurmctldLogFile={root / 'log' / 'slurmctld.log'}",
            f"SlurmdLogFile={root / 'log' / 'slurmd.log'}",
            # No cgroups: a container rarely lets a daemon manage them; processes are tracked by parent pid.
            "ProctrackType=proctrack/linuxproc",
            "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none",
            "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core",
            "ReturnToService=2",
            "MpiDefault=none",
            "SchedulerParameters=batch_sched_delay=0,sched_min_interval=0",
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={_node_memory_mb()} State=UNKNOWN",
            # Oversubscribed: a stage's array tasks all start on this small machine, as they would on many nodes.
            f"PartitionName={PARTITION} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8",
            "",
        ])

    def _wait_until_idle(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        state = ""
        while time.monotonic() < deadline:
            result = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=self.env)
            state = result.stdout.strip()
            if state == "idle":
                return
            time.sleep(0.5)
        raise RuntimeError(f"the test Slurm node did not come up (state {state!r}); logs in {self.root / 'log'}")

    def queued_jobs(self) -> list[str]:
        """Job names still queued or running."""
        result = subprocess.run(["squeue", "-h", "-o", "%j"], capture_output=True, text=True, env=self.env, check=True)
        return result.stdout.split()

    def wait_for_empty_queue(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.queued_jobs():
            if time.monotonic() > deadline:
                raise TimeoutError(f"Slurm jobs still queued after {seconds:.0f} s: {self.queued_jobs()}")
            time.sleep(1)

    def stop(self) -> None:
        subprocess.run(["scontrol", "shutdown"], capture_output=True, env=self.env)
        for pid_file in ("ctld.pid", "d.pid", "munge/pid"):
            path = self.root / pid_file
            with contextlib.suppress(OSError, ValueError):  # gone already: scontrol shutdown stops both Slurm daemons
                os.kill(int(path.read_text().strip()), signal.SIGTERM)
        shutil.rmtree(self.root, ignore_errors=True)
