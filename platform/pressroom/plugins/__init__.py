"""The Pressroom plugin SDK. The only core module plugins import."""
from pressroom.plugins.runtime_requests import (
    EmbeddingOutput,
    EmbedTexts,
    GenerateImages,
    GenerateText,
    ImageOutput,
    ModelProvenance,
    RuntimeRequest,
    TextOutput,
)
from pressroom.plugins import hooks
from pressroom.plugins.disclaimers import DisclaimedText, DisclaimerTooLong, complete_sentences, fit_disclaimers
from pressroom.plugins.config import SDK_API_VERSION, PluginConfig, PluginError
from pressroom.plugins.usecases import (
    ArtifactDraft,
    PromptTemplate,
    RunContext,
    UseCase,
    UseCaseInput,
    UseCaseRun,
    register_use_case,
    use_case_registry,
)

# Plugins may add safety checks (hook "safety_checks"); these are the types they use.
from pressroom.plugins.few_shot import ExamplesInvalid, few_shot, parse_examples  # noqa: E402
from pressroom.safety.checks.base import CheckResult, Evidence, SafetyCheck, Subject  # noqa: E402
# ... and quality checks (flag at most; switched by the workspace's quality settings).
from pressroom.safety.checks.quality.base import QualityCheck  # noqa: E402

__all__ = [
    "SDK_API_VERSION",
    "ArtifactDraft",
    "CheckResult",
    "DisclaimedText",
    "DisclaimerTooLong",
    "ExamplesInvalid",
    "Evidence",
    "PluginConfig",
    "PluginError",
    "PromptTemplate",
    "QualityCheck",
    "SafetyCheck",
    "Subject",
    "fit_disclaimers",
    "complete_sentences",
    "few_shot",
    "parse_examples",
    "hooks",
    "EmbedTexts",
    "EmbeddingOutput",
    "GenerateImages",
    "GenerateText",
    "ImageOutput",
    "ModelProvenance",
    "RunContext",
    "RuntimeRequest",
    "TextOutput",
    "UseCase",
    "UseCaseInput",
    "UseCaseRun",
    "register_use_case",
    "use_case_registry",
]
