"""Which use cases a workspace offers: those of the installed plugins it has not turned
off (built-in use cases always). The catalogue, the API and job creation all ask here."""
from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps

from pressroom.accounts.models import Workspace
from pressroom.core.errors import UseCaseNotOffered
from pressroom.plugins.config import PluginConfig
from pressroom.plugins.usecases import UseCase, use_case_registry

BUILT_IN = "core"


@dataclass(frozen=True)
class InstalledPlugin:
    label: str
    title: str
    use_cases: tuple[str, ...]


def installed_plugins() -> list[InstalledPlugin]:
    """Plugins that contribute use cases (the built-in ones are not a plugin to turn off)."""
    keys_by_plugin: dict[str, list[str]] = {}
    for use_case in use_case_registry.all():
        if use_case.plugin != BUILT_IN:
            keys_by_plugin.setdefault(use_case.plugin, []).append(use_case.key)
    configs = {config.label: config for config in apps.get_app_configs() if isinstance(config, PluginConfig)}
    return [InstalledPlugin(label, str(configs[label].verbose_name) if label in configs else label, tuple(keys))
            for label, keys in sorted(keys_by_plugin.items())]


def plugin_offered(*, workspace: Workspace, plugin: str) -> bool:
    return plugin == BUILT_IN or plugin not in (workspace.disabled_plugins or [])


def use_cases_offered(*, workspace: Workspace) -> list[UseCase]:
    return [u for u in use_case_registry.all() if plugin_offered(workspace=workspace, plugin=u.plugin)]


def use_case_check_offered(*, workspace: Workspace, use_case: UseCase) -> UseCase:
    if not plugin_offered(workspace=workspace, plugin=use_case.plugin):
        raise UseCaseNotOffered(
            f"{use_case.key!r} is not offered in {workspace}.",
            {"use_case": [f"The {use_case.plugin!r} plugin is turned off in this workspace; an admin can turn it on."]},
        )
    return use_case
