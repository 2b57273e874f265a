"""First run: the superuser that README has you create signs in before any workspace
exists. Rather than a dead end, they get a page that creates the first workspace (through
accounts.services.workspace_create, audited, with them as its admin) and a link to the admin."""
from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from pressroom.accounts.models import Workspace
from pressroom.accounts.services import workspace_create
from pressroom.core.errors import InputInvalid


class FirstWorkspaceForm(forms.Form):
    name = forms.CharField(max_length=200, help_text="What your team calls it, e.g. Acme Marketing.")
    slug = forms.SlugField(max_length=64, required=False,
                           help_text="Used in links and by API clients; left empty, it is made from the name.")


def first_run_needed(user) -> bool:
    """Only a superuser, and only while no workspace exists, gets the first-run page."""
    return bool(user.is_superuser) and not Workspace.objects.exists()


@login_required
def first_run(request):
    if not first_run_needed(request.user):
        return redirect("dashboard:home")
    form = FirstWorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            workspace = workspace_create(name=form.cleaned_data["name"].strip(), slug=form.cleaned_data["slug"] or None,
                                         owner=request.user)
            return redirect("dashboard:catalogue", workspace.slug)
        except InputInvalid as error:
            for field, messages in error.field_errors.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
    status = 400 if request.method == "POST" else 200
    return render(request, "dashboard/first_run.html", {"form": form}, status=status)
