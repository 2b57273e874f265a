"""Start and stop real worker processes, for the test suite and the benchmarks."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection

from pressroom.core.management.commands.runplatform import worker_pool

ROOT = Path(__file__).resolve().parents[2]


def current_database_url() -> str:
    """The URL of the database this process uses (the test database under pytest)."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    return f"postgres://{user}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def wait_for(condition: Callable[[], object], *, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"Timed out after {timeout}s waiting for {what}")


class WorkerProcess:
    def __init__(self, name: str, log_dir: Path, *, queues: str = "gpu.text,gpu.image,cpu", threads: int = 0,
                 **env: str) -> None:
        self.name = name
        self.queues = queues
        # 0: prefork with one pool process; N: a thread pool of N (as runplatform's text worker).
        self.pool = worker_pool(threads)
        self.log_path = log_dir / f"{name}.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT / "workers")]),
            "DATABASE_URL": current_database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "PRESSROOM_MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 120) -> WorkerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "pressroom_workers.app", "worker",
             "-Q", self.queues, *self.pool,
             "-n", f"{self.name}@%h", "--without-gossip", "--without-mingle", "-l", "INFO"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(self._ready, timeout=timeout, what=f"worker {self.name} to be ready")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"Worker {self.name} exited early:\n{self.log()}")
        return b" ready." in self.log_path.read_bytes()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-8000:]

    def pool_child_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def kill_everything(self) -> None:
        """SIGKILL the worker and its pool children: no shutdown code runs."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill_everything()


class BeatProcess:
    """`celery beat` with django-celery-beat's database scheduler, as runplatform and the
    README run it, on the database and broker of this process."""

    def __init__(self, log_dir: Path, **env: str) -> None:
        self.log_path = log_dir / "beat.log"
        self.env = WorkerProcess("beat", log_dir, **env).env
        self.process: subprocess.Popen | None = None

    def start(self, *, timeout: float = 60) -> BeatProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "pressroom_workers.app", "beat", "-l", "DEBUG",
             "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
            cwd=ROOT, env=self.env, stdout=self.log_path.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_for(self._ready, timeout=timeout, what="celery beat to start")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"celery beat exited early:\n{self.log()}")
        return b"Current schedule:" in self.log_path.read_bytes()  # DEBUG: the settings quiet celery.beat's INFO

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-8000:]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    children = [int(child) for child in out.split()]
    return children + [grandchild for child in children for grandchild in _descendants(child)]


class EmbeddedPlatform:
    """`manage.py runplatform` as a user runs it (SQLite, the filesystem broker, supervised
    processes) in its own var folder, driven over HTTP: for the kill tests and benchmarks."""

    def __init__(self, var_dir: Path, **env: str) -> None:
        self.var_dir = var_dir
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_BROKER_URL", "PRESSROOM_"))},
            "PRESSROOM_VAR_DIR": str(var_dir),
            "PRESSROOM_MODEL_ROOT": str(settings.PRESSROOM.get("MODEL_ROOT", ROOT / "var" / "models")),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT / "workers")]),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            **env,
        }
        self.log_path = var_dir / "runplatform.log"
        self.process: subprocess.Popen | None = None
        self.token = ""

    def manage(self, *args: str) -> str:
        done = subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, check=True)
        return done.stdout

    def start(self, *, timeout: float = 180) -> EmbeddedPlatform:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.manage("migrate", "--noinput", "-v", "0")
        self.token = self.manage("shell", "-c", (
            "from pressroom.accounts.services import workspace_create, api_key_create\n"
            "from pressroom.accounts.access import Access\n"
            "ws = workspace_create(name='Embedded', slug='embedded')\n"
            "print(api_key_create(access=Access.system(ws), name='t', scopes=['jobs:write', 'content:read', 'audit:read'])[1])"
        )).strip().splitlines()[-1]
        self.process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "runplatform", "--bind", f"127.0.0.1:{self.port}"],
                                        cwd=ROOT, env=self.env, stdout=self.log_path.open("ab"), stderr=subprocess.STDOUT,
                                        start_new_session=True)
        wait_for(self._ready, timeout=timeout, what="the embedded platform to serve and its workers to be ready")
        return self

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"runplatform exited early:\n{self.log()}")
        log = self.log_path.read_bytes()
        return all(f"{name}@".encode() in log and b" ready." in log for name in ("text", "image", "cpu")) and self.healthy()

    def healthy(self) -> bool:
        import httpx

        try:
            return httpx.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def api(self, method: str, path: str, **kwargs):
        import httpx

        response = httpx.request(method, f"{self.base_url}/api/v1/{path}", headers={"Authorization": f"Bearer {self.token}"},
                                 timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    def program_pid(self, name: str) -> int:
        out = subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-c", str(self.var_dir / "run" / "supervisord.conf"),
                              "pid", f"pressroom:{name}"], cwd=ROOT, env=self.env, capture_output=True, text=True).stdout.strip()
        return int(out) if out.isdigit() and int(out) > 0 else 0

    def kill_program(self, name: str) -> int:
        """SIGKILL a program and everything it started (a worker and its pool): no shutdown code runs."""
        pid = self.program_pid(name)
        for victim in [*_descendants(pid), pid]:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pid

    def all_pids(self) -> list[int]:
        return [self.process.pid, *_descendants(self.process.pid)] if self.process else []

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-8000:]

    def stop(self, *, timeout: float = 15) -> float:
        """SIGTERM, as Ctrl-C or a service manager would; returns the seconds until every process was gone."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        pids, started = self.all_pids(), time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        finally:
            wait_for(lambda: not any(_alive(pid) for pid in pids), timeout=timeout, what="every process to stop")
        return time.monotonic() - started


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")
