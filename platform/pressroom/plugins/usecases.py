"""The use-case contract: a key, a title, an input schema, and a `run` that describes
the work as runtime requests and assembles artifacts from the results."""
from __future__ import annotations

import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from pressroom.plugins.runtime_requests import ModelProvenance, RuntimeRequest

Modality = Literal["text", "image", "embedding"]


class UseCaseInput(BaseModel):
    """Base for input schemas: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


@dataclass
class ArtifactDraft:
    """An output ready to be stored: text or PNG bytes, plus how it was made."""

    kind: Literal["text", "image"]
    variant_index: int
    provenance: ModelProvenance
    params: dict[str, Any]
    seed: int | None = None
    text: str = ""
    png: bytes | None = None
    # Structured output for machines (a CMS): rankings, fields of an ad, ...
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PromptTemplate:
    """A workspace's prompt template for a key, with its brand voice and version.
    Version 0 is the plugin's built-in default (the workspace has not saved one)."""

    key: str
    body: str
    version: int = 0
    tone: str = ""
    audience: str = ""
    words_to_avoid: tuple[str, ...] = ()
    phrases_to_include: tuple[str, ...] = ()
    # Version of the workspace's brand voice this template took its voice from (0: none).
    voice_version: int = 0

    def voice_instructions(self) -> str:
        parts = []
        if self.tone:
            parts.append(f"Tone: {self.tone}.")
        if self.audience:
            parts.append(f"Audience: {self.audience}.")
        if self.words_to_avoid:
            parts.append("Never use these words: " + ", ".join(self.words_to_avoid) + ".")
        if self.phrases_to_include:
            parts.append("Include: " + "; ".join(self.phrases_to_include) + ".")
        return " ".join(parts)

    def render(self, **values: Any) -> str:
        """Fill {placeholders}; {voice} is the brand voice; unknown ones stay as written."""
        return self.body.format_map(_KeepMissing(voice=self.voice_instructions(), **values)).strip()

    @property
    def provenance(self) -> dict[str, Any]:
        provenance = {"template_key": self.key, "template_version": self.version}
        if self.voice_version:
            provenance["brand_voice_version"] = self.voice_version
        return provenance


class _KeepMissing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


TemplateResolver = Callable[[str, str], PromptTemplate]


def _default_template(key: str, default_body: str) -> PromptTemplate:
    return PromptTemplate(key=key, body=default_body)


@dataclass
class RunContext:
    job_id: str
    workspace_slug: str
    workspace_id: int | None = None
    # Seeds derive from this so a rerun of the same job reproduces its variants.
    base_seed: int = field(default_factory=lambda: random.SystemRandom().randrange(2**31))
    # Returns the workspace's latest template for a key (the worker reads the database;
    # tests pass their own).
    templates: TemplateResolver = _default_template
    # The plugin's settings (PluginConfig.default_settings over PLUGINS_CONFIG).
    settings: dict[str, Any] = field(default_factory=dict)
    # The phrases the workspace's safety policy requires in this use case's output
    # (SafetyPolicy.required_disclaimers[key]); write them in with
    # pressroom.plugins.fit_disclaimers. Empty where none are required.
    required_disclaimers: tuple[str, ...] = ()
    # The quality stage's reasons to flag a text written for this job (its brief and the
    # workspace's quality settings bound in); [] when it would pass. Use cases regenerate
    # what it flags, within their own budget (marketing: quality_regenerations), before
    # returning their drafts.
    quality_review: Callable[[str], list[str]] = field(default=lambda text: [])

    def prompt_template(self, key: str, default_body: str) -> PromptTemplate:
        return self.templates(key, default_body)


UseCaseRun = Generator[RuntimeRequest, Any, list[ArtifactDraft]]


class UseCase:
    key: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str] = ""
    modality: ClassVar[Modality] = "text"
    Input: ClassVar[type[UseCaseInput]]
    output_kinds: ClassVar[tuple[str, ...]] = ("text",)
    # How many runtime steps a run takes, for the progress bar.
    expected_steps: ClassVar[int] = 1
    # Input fields exempt from the per-string prompt limit (still bound by MAX_INPUT_BYTES),
    # for data such as an uploaded CSV catalog.
    long_text_fields: ClassVar[tuple[str, ...]] = ()
    # Set by the registry: the plugin that registered this use case ("core" for built-ins).
    plugin: str = "core"

    @classmethod
    def input_json_schema(cls) -> dict[str, Any]:
        return cls.Input.model_json_schema()

    def run(self, data: Any, ctx: RunContext) -> UseCaseRun:
        raise NotImplementedError


class UseCaseRegistry:
    def __init__(self) -> None:
        self._use_cases: dict[str, UseCase] = {}

    def register(self, use_case_cls: type[UseCase], plugin: str = "core") -> type[UseCase]:
        if not (isinstance(use_case_cls, type) and issubclass(use_case_cls, UseCase)):
            raise TypeError(f"{use_case_cls!r} is not a UseCase subclass")
        key = getattr(use_case_cls, "key", None)
        if not isinstance(key, str) or not key or not isinstance(getattr(use_case_cls, "Input", None), type):
            raise TypeError(f"{use_case_cls.__name__} needs a non-empty `key` and an `Input` schema")
        existing = self._use_cases.get(key)
        if existing is not None and type(existing) is not use_case_cls:
            raise ValueError(f"Duplicate use-case key {key!r}: already registered by plugin {existing.plugin!r}")
        instance = use_case_cls()
        instance.plugin = plugin
        self._use_cases[key] = instance
        return use_case_cls

    def unregister(self, key: str) -> None:
        self._use_cases.pop(key, None)

    def get(self, key: str) -> UseCase | None:
        return self._use_cases.get(key)

    def keys(self) -> list[str]:
        return sorted(self._use_cases)

    def all(self) -> list[UseCase]:
        return [self._use_cases[key] for key in self.keys()]


use_case_registry = UseCaseRegistry()
def register_use_case(use_case_cls: type[UseCase]) -> type[UseCase]:
    """Decorator for the built-in use cases; plugins list theirs on their PluginConfig."""
    return use_case_registry.register(use_case_cls)
