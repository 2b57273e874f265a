from pressroom.plugins import PluginConfig, hooks


def widget(workspace=None):
    return [("Dummy widget", "dummy/widget.html", {"answer": 42})]


class DummyPluginConfig(PluginConfig):
    name = "tests.dummy_plugin"
    label = "dummy"
    verbose_name = "Dummy plugin"
    version = "0.1.0"
    sdk_api_version = "1.0"
    required_settings = ["api_token"]
    default_settings = {"retries": 2}
    use_cases = ["tests.dummy_plugin.usecases.Echo"]

    def validate(self, settings):
        if not str(settings["api_token"]).startswith("tok-"):
            raise ValueError("api_token must start with 'tok-'")

    def ready(self):
        super().ready()
        hooks.register("dashboard_widgets", widget)
