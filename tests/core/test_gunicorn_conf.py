"""The web process's gunicorn settings: workers load the screening models before serving."""
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from pressroom import gunicorn_conf
from pressroom.core.management.commands.runplatform import programs
from pressroom.safety.checks import harm, toxicity

ROOT = Path(__file__).resolve().parents[2]


def test_a_web_worker_loads_the_screening_models_before_it_serves(monkeypatch):
    """Else the first job submission a fresh worker serves spends seconds training the harm probe."""
    monkeypatch.setattr(harm, "_probe", None)
    monkeypatch.setattr(toxicity, "_scorer", None)
    gunicorn_conf.post_worker_init(SimpleNamespace(pid=os.getpid()))
    assert isinstance(harm._probe, harm.HarmProbe)
    assert toxicity._scorer is not None


def test_the_web_program_runs_gunicorn_with_this_config_and_gunicorn_accepts_it():
    web = programs("127.0.0.1:8000")["web"]
    config = web[web.index("--config") + 1]
    assert config == "python:pressroom.gunicorn_conf"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT / "workers")])}
    checked = subprocess.run([sys.executable, "-m", "gunicorn", "--check-config", "--config", config,
                              "pressroom.wsgi:application"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
