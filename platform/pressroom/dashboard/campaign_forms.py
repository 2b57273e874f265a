"""The new-campaign form. It only shapes the fields; the rows, the use case and the
priority are judged by campaigns.rows and campaign_create, whose messages land here."""
from __future__ import annotations

from typing import Any

from django import forms

from pressroom.jobs.models import ArtifactStatus

FORMAT_CHOICES = (("", "From the file name (.csv, .jsonl)"), ("csv", "CSV"), ("jsonl", "JSON Lines"))
# Where a service's field error belongs on this form.
SERVICE_FIELDS = {"use_case": "use_case", "name": "name", "priority": "priority", "format": "format",
                  "file": "file", "header": "file", "rows": "file", "input": "file"}


class CampaignForm(forms.Form):
    use_case = forms.ChoiceField(label="Use case")
    name = forms.CharField(required=False, max_length=200, help_text="Leave empty to name it after the use case and the time.")
    priority = forms.IntegerField(required=False, min_value=0, max_value=9, help_text="9 is most urgent; empty means 3.",
                                  widget=forms.NumberInput(attrs={"min": 0, "max": 9}))
    file = forms.FileField(label="Rows file", help_text="CSV with a header of input field names, or JSON Lines (one input object per line).",
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.jsonl,.ndjson,text/csv,application/x-ndjson"}))
    format = forms.ChoiceField(choices=FORMAT_CHOICES, required=False, label="File format")

    def __init__(self, *args: Any, use_cases: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["use_case"].choices = [(u.key, f"{u.title} ({u.key})") for u in sorted(use_cases, key=lambda u: u.title)]

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for path, messages in errors.items():
            name = SERVICE_FIELDS.get(path.split(".")[0])
            for message in messages:
                self.add_error(name, message if name else f"{path}: {message}")


MAX_TICKED = 10_000  # as the REST API allows

FILTERS = {
    "": "All rows",
    ArtifactStatus.PASSED: "Passed",
    ArtifactStatus.FLAGGED: "Flagged",
    ArtifactStatus.BLOCKED: "Blocked",
    ArtifactStatus.APPROVED: "Approved",
    "failed": "Failed jobs",
}


class ApproveForm(forms.Form):
    """Bulk approval: the ticked artifacts, or (with `all_passed`) everything that passed."""

    # Any ids may be ticked; the service decides which are this campaign's and approvable.
    artifact = forms.Field(required=False, widget=forms.MultipleHiddenInput)
    all_passed = forms.BooleanField(required=False)
    comment = forms.CharField(required=False, max_length=2000)

    def clean_artifact(self) -> list[str]:
        ids = self.cleaned_data["artifact"] or []
        if len(ids) > MAX_TICKED:
            raise forms.ValidationError(f"Tick at most {MAX_TICKED} results at a time.")
        return ids

    def chosen_ids(self) -> list[str] | None:
        """None means every artifact that passed (the service's own default)."""
        if self.cleaned_data["all_passed"]:
            return None
        return self.cleaned_data["artifact"]
