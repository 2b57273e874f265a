"""The namespaced `PRESSROOM` settings object, with defaults (after DRF's api_settings).

    from pressroom.conf import pressroom_settings
    pressroom_settings.BATCH_SIZE

Values come from `settings.PRESSROOM` over `DEFAULTS`; nested dicts (LIMITS, QUEUES) are
merged key by key so a deployment overrides one limit without restating the others.
The object reloads when a test changes the setting.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS: dict[str, Any] = {
    # Where `prepare_models` writes the offline default models.
    "MODEL_ROOT": "var/models",
    # alias -> how to load it. `source` is a local folder (absolute, or relative to
    # MODEL_ROOT) or a Hugging Face hub id; `revision` pins a hub commit or tag.
    "MODELS": {
        "text-default": {
            "task": "text-generation",
            "source": "smollm2-135m-instruct",
            "revision": None,
            "dtype": "auto",
            "device": "auto",
        },
        "image-default": {
            "task": "text-to-image",
            "source": "tiny-sd-placeholder",
            "revision": None,
            "dtype": "auto",
            "device": "auto",
        },
        "embed-default": {
            "task": "sentence-embedding",
            "source": "all-minilm-l6-v2",
            "revision": None,
            "dtype": "float32",
            "device": "auto",
        },
    },
    # Modality of a use case -> Celery queue. Workers consume the queues of the models they hold.
    "QUEUES": {"text": "gpu.text", "image": "gpu.image", "embedding": "cpu"},
    # Dynamic batching: up to BATCH_SIZE job messages, or whatever arrived within
    # BATCH_WAIT_SECONDS, run together; model calls group compatible requests.
    "BATCH_SIZE": 8,
    "BATCH_WAIT_SECONDS": 0.25,
    # Batches the text worker runs at once (a thread pool). An engine that batches
    # continuously (llama.cpp, openai) merges them at every decoding step, so a job that
    # arrives mid-batch starts at the next step; other engines take one call at a time.
    "TEXT_WORKER_THREADS": 4,
    # "auto" picks CUDA (half precision) when present, else CPU.
    "DEVICE": "auto",
    "LIMITS": {
        "MAX_PROMPT_CHARS": 4000,
        "MAX_INPUT_BYTES": 64 * 1024,
        "MAX_VARIANTS": 8,
        "MAX_NEW_TOKENS": 512,
        "MAX_IMAGE_SIDE": 1024,
        "MAX_IMAGE_STEPS": 100,
    },
    # Delivery and retries.
    "JOB_MAX_ATTEMPTS": 3,
    # Delivery on every broker: a running job's lease (renewed by its worker every third of
    # it), how often the sweeper runs, how long a publish may take before the outbox keeps
    # the message for the sweeper, and when a still-queued job's message is sent again.
    "LEASE_SECONDS": 60,
    "SWEEP_SECONDS": 10,
    "PUBLISH_TIMEOUT_SECONDS": 1.0,
    "DISPATCH_GRACE_SECONDS": 10,
    "REDISPATCH_SECONDS": 600,
    "RETRY_BACKOFF_SECONDS": 5,
    "RETRY_BACKOFF_MAX_SECONDS": 300,
    # A job running longer than SOFT stops at its next step boundary; a batch running
    # longer than HARD has its worker child killed and its messages redelivered.
    "SOFT_TIME_LIMIT_SECONDS": 600,
    "HARD_TIME_LIMIT_SECONDS": 900,
    # Safety: a check that takes longer fails closed (the subject goes to review).
    "SAFETY_CHECK_TIMEOUT_SECONDS": 60,
    # Toxicity model for workers: a detoxify variant (original, unbiased, multilingual,
    # original-small, unbiased-small), or a checkpoint path with its Hugging Face config
    # folder. Without weights the offline baseline alt-profanity-check scores instead.
    "TOXICITY": {"variant": "original", "checkpoint": None, "huggingface_config_path": None},
    # The sentence encoder of the semantic checks (harm categories, banned topics): an ONNX
    # export of a sentence-transformers model with its tokenizer.json, a folder absolute or
    # relative to MODEL_ROOT. `prepare_models` writes the offline default.
    "SEMANTIC_ENCODER": "all-minilm-l6-v2/onnx",
    # Where job inputs meet the semantic checks: "request" (job_create refuses a blocked
    # input with a 400 at once; about 13 ms of CPU per text field on a 2-core machine) or
    # "worker" (only the worker's screening, still before any model time: a blocked input
    # fails its job a moment later). Artifacts are always screened by them.
    "SEMANTIC_INPUT_SCREENING": "request",
    # /metrics (Prometheus): a bearer token, or (without one) the networks that may scrape.
    "METRICS_TOKEN": None,
    "METRICS_ALLOWED_NETWORKS": ["127.0.0.0/8", "::1/128"],
    # Webhooks: internal targets are refused unless allowed (e.g. a CMS on the same network).
    "WEBHOOK_ALLOW_PRIVATE": False,
    "WEBHOOK_TIMEOUT_SECONDS": 10,
    "WEBHOOK_MAX_ATTEMPTS": 8,
    "WEBHOOK_BACKOFF_SECONDS": 10,
    # The circuit breaker: this many failed attempts in a row pause an endpoint.
    "WEBHOOK_PAUSE_AFTER_FAILURES": 10,
    # REST API: requests per API key (or user) per period.
    "API_THROTTLE_RATE": "600/min",
    # Artifact files: how long a signed link (for a CMS to embed) stays valid, and how the
    # file is handed over: "" streams it from Django; "x-accel-redirect" (nginx, with
    # MEDIA_INTERNAL_PREFIX as the internal location) or "x-sendfile" (Apache, lighttpd).
    "MEDIA_SIGNED_URL_SECONDS": 7 * 24 * 3600,
    "PUBLIC_URL": "http://127.0.0.1:8000",
    # Audit checkpoints: the Ed25519 key that signs them (never stored in the database;
    # base64 of the 32-byte private key, or a PEM file path), where each signed checkpoint
    # is appended outside the database, and how often the schedule writes them.
    "AUDIT_SIGNING_KEY": None,
    "AUDIT_SIGNING_KEY_FILE": "var/audit-signing.key",
    "AUDIT_CHECKPOINT_PATH": "var/audit-checkpoints.jsonl",
    "AUDIT_CHECKPOINT_INTERVAL_SECONDS": 3600,
    "MEDIA_SERVE_MODE": "",
    "MEDIA_INTERNAL_PREFIX": "/protected-media/",
    "API_MAX_BODY_BYTES": 1024 * 1024,
    # Campaigns: rows per upload, the upload's size (its own body limit on the campaigns
    # endpoint), how many row errors a refusal lists, and the priority of campaign jobs
    # (below an interactive job's default 5, so a catalog run never starves a marketer).
    "CAMPAIGN_MAX_ROWS": 10_000,
    "CAMPAIGN_MAX_UPLOAD_BYTES": 32 * 1024 * 1024,
    "CAMPAIGN_MAX_REPORTED_ERRORS": 1000,
    "CAMPAIGN_DEFAULT_PRIORITY": 3,
    # Plugin label -> its settings (over the plugin's default_settings).
    "PLUGINS_CONFIG": {},
}

# Merged key by key: overriding one model alias or limit keeps the others.
MERGED_DICTS = ("LIMITS", "QUEUES", "MODELS")


class PressroomSettings:
    def __init__(self, user_settings: dict[str, Any] | None = None) -> None:
        self._user_settings = user_settings
        self._cache: dict[str, Any] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        if self._user_settings is None:
            self._user_settings = getattr(settings, "PRESSROOM", {}) or {}
        return self._user_settings

    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid PRESSROOM setting: {name!r}")
        if name not in self._cache:
            self._cache[name] = self._resolve(name)
        return self._cache[name]

    def _resolve(self, name: str) -> Any:
        value = copy.deepcopy(DEFAULTS[name])
        if name in self.user_settings:
            override = self.user_settings[name]
            value = {**value, **override} if name in MERGED_DICTS else copy.deepcopy(override)
        return value

    @property
    def model_root(self) -> Path:
        root = Path(self.MODEL_ROOT)
        return root if root.is_absolute() else Path(settings.BASE_DIR) / root

    def reload(self) -> None:
        self._cache.clear()
        self._user_settings = None


pressroom_settings = PressroomSettings()


def _reload_on_change(*, setting: str, **kwargs: Any) -> None:
    if setting == "PRESSROOM":
        pressroom_settings.reload()


setting_changed.connect(_reload_on_change)
