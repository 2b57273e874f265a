"""The plugin SDK: discovery, start-up validation, registration, hooks, scaffolding."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

import tests.dummy_plugin as dummy_module
from pressroom.plugins import PluginError, SafetyCheck, hooks, use_case_registry
from pressroom.plugins.config import sdk_compatible
from pressroom.plugins.discovery import PluginNotInstalled, installed_plugins, plugin_apps
from pressroom.plugins.testing import FakeRuntime, UseCaseConformance, run_use_case, make_context
from pressroom.safety.checks.base import CheckResult, Subject
from pressroom.safety.models import SafetyPolicy
from pressroom.safety.screening import screen
from tests.dummy_plugin.apps import DummyPluginConfig
from tests.dummy_plugin.usecases import Clash, Echo

ROOT = Path(__file__).resolve().parents[2]


def announce(tmp_path: Path, name: str, target: str) -> Path:
    """Make an installed-distribution record with a `pressroom.plugins` entry point."""
    info = tmp_path / f"{name}_dist-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}-dist\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[pressroom.plugins]\n{name} = {target}\n")
    return tmp_path


@pytest.fixture
def dummy_config():
    config = DummyPluginConfig("tests.dummy_plugin", dummy_module)
    yield config
    use_case_registry.unregister("dummy.echo")
    hooks.unregister("dashboard_widgets", sys.modules["tests.dummy_plugin.apps"].widget)


def test_first_party_plugins_are_found_through_entry_points():
    assert {"marketing", "design", "recommendation"} <= set(installed_plugins())
    assert plugin_apps(["design"]) == ["pressroom_design.apps.DesignConfig"]
    assert use_case_registry.get("marketing.ad_copy").plugin == "marketing"


def test_a_new_distribution_is_discovered(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(announce(tmp_path, "dummy", "tests.dummy_plugin.apps:DummyPluginConfig")))
    assert installed_plugins()["dummy"] == "tests.dummy_plugin.apps.DummyPluginConfig"


def test_enabling_a_plugin_that_is_not_installed_names_it():
    with pytest.raises(PluginNotInstalled, match="ghost") as error:
        plugin_apps(["marketing", "ghost"])
    assert "Installed plugins:" in str(error.value)


def test_valid_plugin_registers_use_cases_and_hooks(dummy_config, settings):
    settings.PRESSROOM = {"PLUGINS_CONFIG": {"dummy": {"api_token": "tok-1"}}}
    dummy_config.ready()
    assert use_case_registry.get("dummy.echo").plugin == "dummy"
    assert dummy_config.settings == {"retries": 2, "api_token": "tok-1"}
    assert [w for hook in hooks.get_hooks("dashboard_widgets") for w in hook()][-1][0] == "Dummy widget"


@pytest.mark.parametrize(
    ("plugin_settings", "message"),
    [({}, "Plugin 'dummy' is missing required setting(s) api_token"),
     ({"api_token": "nope"}, "Plugin 'dummy': invalid settings: api_token must start with 'tok-'")],
)
def test_settings_errors_name_the_plugin(dummy_config, settings, plugin_settings, message):
    settings.PRESSROOM = {"PLUGINS_CONFIG": {"dummy": plugin_settings}}
    with pytest.raises(PluginError) as error:
        dummy_config.ready()
    assert message in str(error.value)
    assert use_case_registry.get("dummy.echo") is None


@pytest.mark.parametrize("version", ["2.0", "1.9", "0.9", "banana"])
def test_incompatible_sdk_version_is_refused(settings, version):
    settings.PRESSROOM = {"PLUGINS_CONFIG": {"dummy": {"api_token": "tok-1"}}}
    config = type("Future", (DummyPluginConfig,), {"sdk_api_version": version})("tests.dummy_plugin", dummy_module)
    with pytest.raises(PluginError, match=rf"Plugin 'dummy' needs SDK API {version}, but this Pressroom provides 1.0"):
        config.ready()


def test_sdk_compatibility_rule():
    assert sdk_compatible("1.0", "1.2") and not sdk_compatible("1.3", "1.2") and not sdk_compatible("2.0", "1.9")


def test_duplicate_use_case_key_is_refused(settings):
    settings.PRESSROOM = {"PLUGINS_CONFIG": {"dummy": {"api_token": "tok-1"}}}
    config = type("Clashing", (DummyPluginConfig,), {"use_cases": [Clash]})("tests.dummy_plugin", dummy_module)
    with pytest.raises(PluginError, match="Duplicate use-case key 'core.text': already registered by plugin 'core'"):
        config.ready()
    assert type(use_case_registry.get("core.text")).__name__ == "FreeformText"


def test_start_up_fails_clearly_in_a_real_process(tmp_path):
    """The error an operator sees when the plugin is enabled without its settings."""
    entry_points = announce(tmp_path, "dummy", "tests.dummy_plugin.apps:DummyPluginConfig")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(entry_points), str(ROOT), str(ROOT / "platform"), str(ROOT / "workers")]),
           "DJANGO_SETTINGS_MODULE": "pressroom.settings", "PRESSROOM_PLUGINS": "marketing,dummy"}
    script = "import django; django.setup(); from pressroom.plugins import use_case_registry; print(use_case_registry.get('dummy.echo').plugin)"
    failed = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert failed.returncode != 0 and "Plugin 'dummy' is missing required setting(s) api_token" in failed.stderr
    env["PRESSROOM_PLUGINS_CONFIG"] = '{"dummy": {"api_token": "tok-9"}}'
    started = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "dummy"


class Strict(SafetyCheck):
    name = "dummy_strict"

    def run(self, subjects, policy):
        return [CheckResult(self.name, "flag", reason="dummy says no") for _ in subjects]


def test_safety_checks_hook_adds_checks_that_only_escalate():
    with hooks.register_temporarily("safety_checks", lambda: [Strict()]):
        (screening,) = screen([Subject(text="Lovely weather")], SafetyPolicy())
    assert screening.decision == "flag" and "dummy_strict: dummy says no" in screening.reasons


def test_hooks_cannot_replace_core_checks_or_use_unknown_names():
    impostor = type("Impostor", (Strict,), {"name": "pii"})()
    with hooks.register_temporarily("safety_checks", lambda: [impostor]), pytest.raises(ValueError, match="core check 'pii'"):
        screen([Subject(text="x")], SafetyPolicy())
    with pytest.raises(ValueError, match="Unknown hook"):
        hooks.register("on_everything", print)


def test_hooks_run_in_order():
    calls = []
    with hooks.register_temporarily("dashboard_widgets", lambda: calls.append("late") or [], order=10), \
            hooks.register_temporarily("dashboard_widgets", lambda: calls.append("early") or [], order=-10):
        for hook in hooks.get_hooks("dashboard_widgets"):
            hook()
    assert calls[0] == "early" and calls[-1] == "late"


class TestEchoConformance(UseCaseConformance):
    use_case = Echo
    valid_inputs = [{"words": ["a", "b"]}]
    invalid_inputs = [({"words": []}, "words"), ({"words": ["a"] * 6}, "words"), ({"words": "a"}, "words")]

    def context(self):
        return make_context(settings={"api_token": "tok-1"})


def test_multi_step_use_case_with_the_fake_runtime():
    runtime = FakeRuntime(lambda prompt, i: prompt.upper())
    (draft,) = run_use_case(Echo, {"words": ["hi"]}, runtime=runtime, ctx=make_context(settings={"api_token": "tok-1"}))
    assert draft.text == "TOK-1: REPEAT: HI" and len(runtime.requests) == 2


def test_startplugin_scaffolds_a_distribution_that_installs_and_passes_its_tests(tmp_path):
    call_command("startplugin", "acme_greetings", "--directory", str(tmp_path))
    source = tmp_path / "pressroom-acme-greetings"
    assert (source / "pyproject.toml").read_text().count('acme_greetings = "pressroom_acme_greetings.apps:AcmeGreetingsConfig"') == 1
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(target), str(source)],
                   check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT / "platform"), str(ROOT / "workers")]),
           "DJANGO_SETTINGS_MODULE": "pressroom.settings", "PRESSROOM_PLUGINS": "acme_greetings"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(source), str(source / "tests")],
                            env=env, capture_output=True, text=True, cwd=source)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout  # 4 conformance tests + its own
    listed = subprocess.run([sys.executable, "-c", "import django; django.setup(); from pressroom.plugins import use_case_registry as r; print(r.get('acme_greetings.greeting').plugin)"],
                            env=env, capture_output=True, text=True)
    assert listed.stdout.strip() == "acme_greetings", listed.stderr


def test_startplugin_refuses_bad_names(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a valid plugin name"):
        call_command("startplugin", "Bad-Name", "--directory", str(tmp_path))
