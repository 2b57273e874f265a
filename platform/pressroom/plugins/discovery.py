"""Find installed plugins through the entry-point group `pressroom.plugins` (after
Saleor). Only plugins named in the explicit enable list are loaded (after NetBox)."""
from __future__ import annotations

from importlib.metadata import entry_points

ENTRY_POINT_GROUP = "pressroom.plugins"


class PluginNotInstalled(Exception):
    pass


def installed_plugins() -> dict[str, str]:
    """Plugin name -> its INSTALLED_APPS entry. The entry point names the PluginConfig
    (`my_plugin.apps:MyPluginConfig`) or the app module."""
    return {ep.name: ep.value.replace(":", ".") for ep in entry_points(group=ENTRY_POINT_GROUP)}


def plugin_apps(enabled: list[str]) -> list[str]:
    """The INSTALLED_APPS entries of the enabled plugins, in the order given."""
    installed = installed_plugins()
    missing = [name for name in enabled if name not in installed]
    if missing:
        known = ", ".join(sorted(installed)) or "none"
        raise PluginNotInstalled(
            f"Enabled plugin(s) {', '.join(missing)} not installed (no '{ENTRY_POINT_GROUP}' entry point). "
            f"Installed plugins: {known}. Install the distribution or remove it from PRESSROOM_PLUGINS."
        )
    return [installed[name] for name in dict.fromkeys(enabled)]
