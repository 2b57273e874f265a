"""Run the embedded platform: one web process and one worker process, supervised.

Meant for one machine (SQLite and the filesystem broker by default). In production
run gunicorn and `celery -A pressroom_workers.app worker` under your process manager.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from pressroom.conf import pressroom_settings


class Command(BaseCommand):
    help = "Run one web process (gunicorn) and one worker process (Celery) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("PRESSROOM_BIND", "127.0.0.1:8000"))
        parser.add_argument("--queues", default=",".join(dict.fromkeys(pressroom_settings.QUEUES.values())))

    def _commands(self, bind: str, queues: str) -> dict[str, list[str]]:
        return {
            "web": [sys.executable, "-m", "gunicorn", "pressroom.wsgi:application", "--bind", bind,
                    "--workers", "1", "--threads", "4", "--access-logfile", "-"],
            "worker": [sys.executable, "-m", "celery", "-A", "pressroom_workers.app", "worker", "-Q", queues,
                       "--concurrency", "1", "--pool", "prefork", "-n", "embedded@%h", "-l", "INFO",
                       # celery beat inside the worker: the periodic tasks (audit checkpoints).
                       "--beat", "--schedule", str(settings.VAR_DIR / "celerybeat-schedule")],
        }

    def handle(self, *args, bind: str, queues: str, **options):
        root = str(settings.BASE_DIR)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([f"{root}/platform", f"{root}/workers"])}
        processes = {
            name: subprocess.Popen(command, cwd=root, env=env)
            for name, command in self._commands(bind, queues).items()
        }
        self.stdout.write(f"Pressroom is running at http://{bind}/ (admin at /admin/). Ctrl-C stops it.")
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping and all(process.poll() is None for process in processes.values()):
                time.sleep(0.5)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            for process in processes.values():
                process.wait(timeout=60)
        failed = [name for name, process in processes.items() if process.returncode not in (0, -15, None) and not stopping]
        if failed:
            self.stderr.write(f"Stopped because {', '.join(failed)} exited.")
            sys.exit(1)
