"""Checks load their models lazily, in the threads screening runs them in side by side. Two
loaders importing scikit-learn at once deadlocked in Python's import system in a fresh web
worker (ImportError "partially initialized module 'sklearn.svm._base'"): both checks failed
closed and the warm-up said so. Models now load one at a time."""
import os
import subprocess
import sys
import threading
from pathlib import Path

from pressroom.safety.checks import harm, images, toxicity
from pressroom.safety.checks.base import MODEL_LOADING

ROOT = Path(__file__).resolve().parents[2]
FIRST_SCREENING = """
import django
django.setup()
from pressroom.safety.checks.base import Subject
from pressroom.safety.models import SafetyPolicy
from pressroom.safety.screening import screen
from pressroom.safety.services import request_checks
subject = Subject(text="Our spring sale starts on Monday.", use_case="core.text", label="input.prompt")
[screening] = screen([subject], SafetyPolicy(), request_checks())
errors = [f"{result.check}: {result.error}" for result in screening.results if result.error]
print("ERRORS", errors)
"""


def loads_while_held(load) -> bool:
    """Whether `load` finished while this thread held MODEL_LOADING (it must wait)."""
    finished = threading.Event()
    with MODEL_LOADING:
        thread = threading.Thread(target=lambda: (load(), finished.set()))
        thread.start()
        finished.wait(0.5)
        held_off = not finished.is_set()
    thread.join(60)
    return finished.is_set() and held_off


def test_each_lazy_model_loader_waits_for_the_one_loading_lock(monkeypatch):
    monkeypatch.setattr(toxicity, "_scorer", None)
    monkeypatch.setattr(harm, "_probe", None)
    monkeypatch.setattr(images, "_classifier", None)
    assert loads_while_held(toxicity.current_toxicity_scorer)
    assert loads_while_held(harm.current_harm_probe)
    assert loads_while_held(images._nsfw_classifier)


def test_a_fresh_process_screens_its_first_input_with_every_request_check_working():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "pressroom.settings",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT / "workers")])}
    for _ in range(3):  # the import race showed about one start in four
        done = subprocess.run([sys.executable, "-c", FIRST_SCREENING], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "ERRORS []" in done.stdout, done.stdout[-2000:]
