"""Forms of the Webhooks page. They only parse: the services validate the target (http(s),
not private unless the operator allows it) and the events, and their refusals are put back
on these fields (webhook_views._apply_refusal)."""
from __future__ import annotations

from django import forms

from pressroom.publishing.models import WEBHOOK_EVENTS

EVENT_HELP = {
    "artifact.published": "content was published",
    "artifact.flagged": "screening sent a variant to human review",
    "job.succeeded": "a job finished with its variants",
    "job.failed": "a job failed",
    "campaign.finished": "every job of a campaign finished",
}
EVENT_CHOICES = [(event, f"{event} ({EVENT_HELP[event]})" if event in EVENT_HELP else event) for event in WEBHOOK_EVENTS]


def _events_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple,
                                     error_messages={"required": "Choose at least one event."})


def _description_field() -> forms.CharField:
    return forms.CharField(max_length=200, required=False, help_text="For your team: which system this is, who owns it.")


class WebhookCreateForm(forms.Form):
    url = forms.URLField(label="URL", max_length=1000, assume_scheme="https",
                         help_text="Your receiver's address, http:// or https://. Pressroom POSTs each event there, signed.",
                         error_messages={"invalid": "Enter a full web address, such as https://cms.example.com/hooks."})
    events = _events_field()
    description = _description_field()


class WebhookEditForm(forms.Form):
    events = _events_field()
    active = forms.BooleanField(required=False, help_text="An inactive endpoint gets no new events.")
    description = _description_field()
