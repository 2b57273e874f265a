from rest_framework.permissions import BasePermission


class HasScopes(BasePermission):
    """The view (or its action) names `required_scopes`; the caller's access
    (`request.access`, set by authentication) needs all of them. `any_scopes`-style tuples
    of tuples accept one of several (e.g. reading jobs with jobs:write or content:read)."""

    message = "This credential lacks the scope this endpoint needs."

    def has_permission(self, request, view) -> bool:
        access = getattr(request, "access", None)
        if access is None:
            if request.user is not None:
                self.message = "Choose a workspace you belong to (X-Pressroom-Workspace header)."
            return False
        action = getattr(view, "action", None) or request.method.lower()
        required = getattr(view, "scopes_by_action", {}).get(action, getattr(view, "required_scopes", ()))
        if isinstance(required, tuple) and required and isinstance(required[0], tuple):
            return any(set(option) <= access.scopes for option in required)
        missing = set(required) - access.scopes
        if missing:
            self.message = f"Missing scope: {', '.join(sorted(missing))}."
            return False
        return True



class SignedIn(BasePermission):
    """Any caller authentication recognised: a signed-in dashboard user (whatever their
    workspaces) or a live API key. For pages that describe the API rather than a workspace's
    data (the OpenAPI schema and its docs)."""

    message = "Sign in or send an API key to read the API documentation."

    def has_permission(self, request, view) -> bool:
        return request.user is not None or getattr(request, "access", None) is not None
