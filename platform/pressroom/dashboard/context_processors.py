from pressroom.dashboard.access import user_workspaces

NAV_BY_VIEW = {"catalogue": "catalogue", "job_new": "catalogue", "jobs": "jobs", "job": "jobs", "review": "review",
               "artifact": "review", "settings": "settings", "api_keys": "keys", "usage": "usage",
               "campaigns": "campaigns", "campaign_new": "campaigns", "campaign": "campaigns"}


def dashboard(request):
    """The workspace switcher's choices and the current section, for the layout."""
    match = getattr(request, "resolver_match", None)
    if match is None or match.app_name != "dashboard" or not request.user.is_authenticated:
        return {}
    return {"user_workspaces": user_workspaces(request.user), "nav": NAV_BY_VIEW.get(match.url_name, "")}
