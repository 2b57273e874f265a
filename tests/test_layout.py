"""The layout promises of DESIGN.md: platform/ is a source folder, not a package."""
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_platform_is_the_standard_library_module():
    import platform

    stdlib = Path(sysconfig.get_paths()["stdlib"])
    assert Path(platform.__file__).resolve().parent == stdlib.resolve()
    assert callable(platform.python_version)


def test_source_folders_have_no_init():
    assert not (ROOT / "platform" / "__init__.py").exists()
    assert not (ROOT / "workers" / "__init__.py").exists()


def test_platform_imports_no_model_library_or_worker_code():
    """The web process must start without torch: platform/ enqueues by task name only."""
    script = (
        "import sys, django, importlib, pkgutil;"
        "django.setup();"
        "import pressroom;"
        "[importlib.import_module(m.name) for m in pkgutil.walk_packages(pressroom.__path__, 'pressroom.')"
        " if '.migrations' not in m.name];"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in"
        " ('torch', 'transformers', 'diffusers', 'sentence_transformers')"
        " or n.startswith(('pressroom_workers.tasks', 'pressroom_workers.runtime', 'pressroom_workers.executor')));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "pressroom.settings", "PYTHONPATH": f"{ROOT / 'platform'}", "PATH": ""}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
