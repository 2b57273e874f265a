"""Run the embedded platform under supervisord: one web process, one worker per modality
(text, image, embeddings and the sweeper never wait behind each other), and celery beat.

supervisord restarts whatever dies (a killed worker, a crashed web process) while the
others keep serving, and SIGTERM or Ctrl-C stops every process group within a few seconds.
Meant for one machine (SQLite and the filesystem broker by default); production runs the
same commands under its own process manager (see README, "Production").
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from pressroom.conf import pressroom_settings

STOP_WAIT_SECONDS = 5


def worker_pool(threads: int = 0) -> list[str]:
    """Celery pool options: a prefork worker with one pool process, or with `threads`, a
    thread pool whose batches share the process's models (continuous batching across
    batches). The test harness's workers (pressroom_workers.testing) run the same."""
    return ["--concurrency", str(threads), "--pool", "threads"] if threads else ["--concurrency", "1", "--pool", "prefork"]


def _worker(queues: str, name: str, loglevel: str, *, threads: int = 0) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "pressroom_workers.app", "worker", "-Q", queues,
            *worker_pool(threads), "-n", f"{name}@%h", "-l", loglevel]


def programs(bind: str, loglevel: str = "INFO") -> dict[str, list[str]]:
    queues = pressroom_settings.QUEUES
    return {
        "web": [sys.executable, "-m", "gunicorn", "pressroom.wsgi:application", "--config", "python:pressroom.gunicorn_conf",
                "--bind", bind,
                "--workers", "1", "--threads", "4", "--access-logfile", "-", "--graceful-timeout", str(STOP_WAIT_SECONDS),
                "--logger-class", "pressroom.core.logging.QuietPollingLogger"],
        "worker-text": _worker(queues["text"], "text", loglevel, threads=pressroom_settings.TEXT_WORKER_THREADS),
        "worker-image": _worker(queues["image"], "image", loglevel),
        "worker-cpu": _worker(f"{queues['embedding']},sweeper", "cpu", loglevel),
        "beat": [sys.executable, "-m", "celery", "-A", "pressroom_workers.app", "beat", "-l", loglevel,
                 "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
    }


def _quote(argument: str) -> str:
    """supervisord splits commands shell-style and expands %(...)s."""
    escaped = argument.replace("%", "%%")
    return f'"{escaped}"' if " " in escaped else escaped


def supervisord_config(run_dir: Path, bind: str, environment: dict[str, str]) -> str:
    env_line = ",".join(f'{key}="{value.replace("%", "%%")}"' for key, value in sorted(environment.items()))
    sections = [
        "[supervisord]", "nodaemon=true", "loglevel=warn", f"logfile={run_dir / 'supervisord.log'}",
        f"pidfile={run_dir / 'supervisord.pid'}", f"childlogdir={run_dir}", "",
        "[unix_http_server]", f"file={run_dir / 'supervisor.sock'}", "",
        "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface", "",
        "[supervisorctl]", f"serverurl=unix://{run_dir / 'supervisor.sock'}", "",
    ]
    names = list(programs(bind))
    for name, command in programs(bind).items():
        sections += [
            f"[program:{name}]", f"command={' '.join(_quote(part) for part in command)}", f"directory={settings.BASE_DIR}",
            f"environment={env_line}", "autorestart=true", "startsecs=1", "startretries=1000",
            "stopasgroup=true", "killasgroup=true", f"stopwaitsecs={STOP_WAIT_SECONDS}",
            # Workers stop cold (SIGQUIT): a running job is not waited for; its lease lapses and
            # the sweeper requeues it (or the broker redelivers it) on the next start.
            f"stopsignal={'QUIT' if name.startswith('worker') else 'TERM'}",
            "redirect_stderr=true", "stdout_logfile=/dev/stdout", "stdout_logfile_maxbytes=0", "",
        ]
    # One group: a stop signals every program at once instead of one after another.
    sections += ["[group:pressroom]", f"programs={','.join(names)}", ""]
    return "\n".join(sections)


def fresh_metrics_dir(run_dir: Path) -> Path:
    """Every process writes its Prometheus metrics here, so the web process's /metrics
    shows the workers' too; emptied at start (prometheus_client's multiprocess rule)."""
    folder = run_dir / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


class Command(BaseCommand):
    help = "Run the web process, a worker per modality and the scheduler, supervised, until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("PRESSROOM_BIND", "127.0.0.1:8000"))

    def handle(self, *args, bind: str, **options):
        root = str(settings.BASE_DIR)
        run_dir = Path(settings.VAR_DIR) / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        environment = {"PYTHONPATH": os.pathsep.join([f"{root}/platform", f"{root}/workers"]),
                       "PYTHONUNBUFFERED": "1", "PROMETHEUS_MULTIPROC_DIR": str(fresh_metrics_dir(run_dir))}
        config = run_dir / "supervisord.conf"
        config.write_text(supervisord_config(run_dir, bind, environment))
        self.stdout.write(f"Pressroom is running at http://{bind}/ (admin at /admin/). Ctrl-C stops it.")
        self.stdout.flush()
        # supervisord replaces this process: it receives SIGTERM/SIGINT and stops the groups.
        os.execv(sys.executable, [sys.executable, "-m", "supervisor.supervisord", "-c", str(config)])
