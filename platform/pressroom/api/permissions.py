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

