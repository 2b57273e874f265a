"""Files of a new third-party plugin distribution (used by `manage.py startplugin`)."""
from __future__ import annotations

import keyword
import re
from pathlib import Path

NAME = re.compile(r"^[a-z][a-z0-9_]{1,40}$")

PYPROJECT = '''[build-system]
requires = ["setuptools>=69", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "pressroom-{dash}"
version = "0.1.0"
description = "A Pressroom plugin."
requires-python = ">=3.11"
dependencies = ["pressroom"]

[project.entry-points."pressroom.plugins"]
{name} = "pressroom_{name}.apps:{camel}Config"

[tool.setuptools.packages.find]
include = ["pressroom_{name}*"]
'''

APPS = '''from pressroom.plugins import PluginConfig


class {camel}Config(PluginConfig):
    name = "pressroom_{name}"
    label = "{name}"
    verbose_name = "{title}"
    version = "0.1.0"
    sdk_api_version = "{sdk}"
    default_settings = {{"greeting": "Hello"}}
    use_cases = ["pressroom_{name}.usecases.Greeting"]
'''

USECASES = '''from pydantic import Field

from pressroom.plugins import ArtifactDraft, GenerateText, RunContext, UseCase, UseCaseInput, UseCaseRun


class GreetingInput(UseCaseInput):
    audience: str = Field(min_length=1, max_length=200, description="Who the greeting is for.")
    variants: int = Field(default=1, ge=1, le=4)


class Greeting(UseCase):
    key = "{name}.greeting"
    title = "Greeting"
    description = "Writes a short greeting for an audience."
    modality = "text"
    Input = GreetingInput

    def run(self, data: GreetingInput, ctx: RunContext) -> UseCaseRun:
        template = ctx.prompt_template(self.key, "{{greeting}}! Write a one-sentence greeting for {{audience}}. {{voice}}")
        prompt = template.render(greeting=ctx.settings.get("greeting", "Hello"), audience=data.audience)
        outputs = yield GenerateText(
            prompts=(prompt,) * data.variants, max_new_tokens=48, temperature=0.8 if data.variants > 1 else 0.0,
            seeds=tuple(ctx.base_seed + i for i in range(data.variants)),
        )
        return [
            ArtifactDraft(kind="text", variant_index=i, text=out.text, seed=out.seed,
                          params={{**out.params, **template.provenance}}, provenance=out.provenance)
            for i, out in enumerate(outputs)
        ]
'''

TESTS = '''from pressroom.plugins.testing import FakeRuntime, UseCaseConformance, run_use_case
from pressroom_{name}.usecases import Greeting


class TestGreeting(UseCaseConformance):
    use_case = Greeting
    valid_inputs = [{{"audience": "new customers"}}, {{"audience": "partners", "variants": 2}}]
    invalid_inputs = [({{"audience": ""}}, "audience"), ({{"audience": "x", "variants": 9}}, "variants")]


def test_prompt_names_the_audience():
    runtime = FakeRuntime()
    run_use_case(Greeting, {{"audience": "new customers"}}, runtime=runtime)
    assert "new customers" in runtime.requests[0].prompts[0]
'''

README = '''# pressroom-{dash}

A Pressroom plugin. Install it next to Pressroom and enable it:

    pip install -e .
    export PRESSROOM_PLUGINS="$PRESSROOM_PLUGINS,{name}"

Run its tests with `pytest tests` (Pressroom's settings: DJANGO_SETTINGS_MODULE=pressroom.settings).
See Pressroom's docs/plugins.md.
'''


def check_name(name: str) -> None:
    if not NAME.match(name) or keyword.iskeyword(name):
        raise ValueError(f"{name!r} is not a valid plugin name: use lower-case letters, digits and underscores")


def scaffold_plugin(name: str, target: Path, sdk_version: str) -> list[Path]:
    check_name(name)
    root = target / f"pressroom-{name.replace('_', '-')}"
    if root.exists():
        raise FileExistsError(f"{root} already exists")
    values = {"name": name, "dash": name.replace("_", "-"), "camel": "".join(p.title() for p in name.split("_")),
              "title": name.replace("_", " ").title(), "sdk": sdk_version}
    files = {
        "pyproject.toml": PYPROJECT, "README.md": README, f"pressroom_{name}/__init__.py": '"""A Pressroom plugin."""\n',
        f"pressroom_{name}/apps.py": APPS, f"pressroom_{name}/usecases.py": USECASES, f"tests/test_{name}.py": TESTS,
    }
    written = []
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values))
        written.append(path)
    return written
