"""Prompt templates per workspace, versioned and audited."""
from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from pressroom.accounts.models import Workspace
from pressroom.audit.services import Actor, audit_record
from pressroom.core.errors import InputInvalid
from pressroom.plugins.models import StoredPromptTemplate
from pressroom.plugins.usecases import PromptTemplate


@transaction.atomic
def prompt_template_save(
    *, workspace: Workspace, key: str, body: str, actor: Actor, tone: str = "", audience: str = "",
    words_to_avoid: list[str] | None = None, phrases_to_include: list[str] | None = None,
) -> StoredPromptTemplate:
    if not body.strip():
        raise InputInvalid("A template needs a body.", {"body": ["This field may not be blank."]})
    # Lock the workspace row so two saves cannot take the same version number.
    Workspace.objects.select_for_update().get(pk=workspace.pk)
    latest = StoredPromptTemplate.objects.filter(workspace=workspace, key=key).aggregate(v=Max("version"))["v"] or 0
    stored = StoredPromptTemplate.objects.create(
        workspace=workspace, key=key, version=latest + 1, body=body, tone=tone, audience=audience,
        words_to_avoid=list(words_to_avoid or []), phrases_to_include=list(phrases_to_include or []), created_by=actor.user,
    )
    audit_record(
        workspace_id=workspace.pk, action="prompt_template.saved", object_type="prompt_template", object_id=stored.pk,
        actor=actor, data={"key": key, "version": stored.version, "body": body, "tone": tone, "audience": audience,
                           "words_to_avoid": stored.words_to_avoid, "phrases_to_include": stored.phrases_to_include},
    )
    return stored


def prompt_template_resolver(workspace_id: int):
    """For RunContext: the latest stored version for a key, or the plugin's default."""

    def resolve(key: str, default_body: str) -> PromptTemplate:
        stored = StoredPromptTemplate.objects.filter(workspace_id=workspace_id, key=key).order_by("-version").first()
        if stored is None:
            return PromptTemplate(key=key, body=default_body)
        return PromptTemplate(
            key=key, body=stored.body, version=stored.version, tone=stored.tone, audience=stored.audience,
            words_to_avoid=tuple(stored.words_to_avoid), phrases_to_include=tuple(stored.phrases_to_include),
        )

    return resolve
