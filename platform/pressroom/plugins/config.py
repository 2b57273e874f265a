"""PluginConfig: a plugin is a Django app whose AppConfig declares its metadata, the SDK
API version it was written for, its settings and its use cases (after NetBox)."""
from __future__ import annotations

import copy
from typing import Any, ClassVar

from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from pressroom.plugins.usecases import UseCase, use_case_registry

# Major changes break plugins; minor versions only add.
SDK_API_VERSION = "1.0"


class PluginError(ImproperlyConfigured):
    """A plugin cannot start; the message names the plugin and what to fix."""


def _parse_version(value: str) -> tuple[int, int]:
    major, _, minor = str(value).partition(".")
    return int(major), int(minor or 0)


def sdk_compatible(plugin_version: str, platform_version: str = SDK_API_VERSION) -> bool:
    plugin_major, plugin_minor = _parse_version(plugin_version)
    major, minor = _parse_version(platform_version)
    return plugin_major == major and plugin_minor <= minor


class PluginConfig(AppConfig):
    """Subclass in your plugin's apps.py:

        class MyPlugin(PluginConfig):
            name = "my_plugin"
            verbose_name = "My plugin"
            version = "0.1.0"
            sdk_api_version = "1.0"
            required_settings = ["api_token"]
            default_settings = {"tone": "friendly"}
            use_cases = ["my_plugin.usecases.MyUseCase"]
    """

    version: ClassVar[str] = "0.0.0"
    author: ClassVar[str] = ""
    description: ClassVar[str] = ""
    sdk_api_version: ClassVar[str] = SDK_API_VERSION
    required_settings: ClassVar[list[str]] = []
    default_settings: ClassVar[dict[str, Any]] = {}
    # UseCase subclasses, or dotted paths to them.
    use_cases: ClassVar[list[Any]] = []

    @property
    def plugin_name(self) -> str:
        return self.label

    @property
    def settings(self) -> dict[str, Any]:
        """default_settings, overridden by PRESSROOM["PLUGINS_CONFIG"][<label>]."""
        from pressroom.conf import pressroom_settings

        configured = pressroom_settings.PLUGINS_CONFIG.get(self.label, {})
        return {**copy.deepcopy(self.default_settings), **configured}

    def ready(self) -> None:
        self._check_sdk_version()
        self._check_required_settings()
        try:
            self.validate(self.settings)
        except PluginError:
            raise
        except Exception as error:
            raise PluginError(f"Plugin {self.label!r}: invalid settings: {error}") from error
        for use_case in self.use_cases:
            self._register(use_case)

    def validate(self, settings: dict[str, Any]) -> None:
        """Override to check settings; raise ValueError with a clear message."""

    def _check_sdk_version(self) -> None:
        try:
            compatible = sdk_compatible(self.sdk_api_version)
        except ValueError:
            compatible = False
        if not compatible:
            raise PluginError(
                f"Plugin {self.label!r} needs SDK API {self.sdk_api_version}, but this Pressroom provides "
                f"{SDK_API_VERSION}. Upgrade Pressroom or install a plugin release for API {SDK_API_VERSION}."
            )

    def _check_required_settings(self) -> None:
        missing = [name for name in self.required_settings if name not in self.settings]
        if missing:
            raise PluginError(
                f"Plugin {self.label!r} is missing required setting(s) {', '.join(missing)}: "
                f"set PRESSROOM['PLUGINS_CONFIG']['{self.label}'] in your settings."
            )

    def _register(self, use_case: Any) -> None:
        cls = import_string(use_case) if isinstance(use_case, str) else use_case
        if not (isinstance(cls, type) and issubclass(cls, UseCase)):
            raise PluginError(f"Plugin {self.label!r}: {use_case!r} is not a UseCase subclass")
        try:
            use_case_registry.register(cls, plugin=self.label)
        except ValueError as error:
            raise PluginError(f"Plugin {self.label!r}: {error}") from None
