"""OpenAPI descriptions of Pressroom's authentication (loaded by ApiConfig.ready)."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "pressroom.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A workspace API key: `pr_<prefix>_<secret>`."}


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "pressroom.api.authentication.WorkspaceSessionAuthentication"
    name = "Session"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid",
                "description": "Dashboard session; pick the workspace with the X-Pressroom-Workspace header."}
