"""Prompt templates per workspace, versioned and audited."""
from __future__ import annotations

import functools

from django.db import transaction
from django.db.models import Max

from pressroom.accounts.access import Access
from pressroom.accounts.models import Role, Workspace
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


# The workspace-wide brand voice (tone, audience, words to avoid, phrases to include),
# edited in the dashboard's brand settings. Templates without a voice of their own take it.
BRAND_VOICE_KEY = "brand.voice"


def _latest(workspace_id: int, key: str) -> StoredPromptTemplate | None:
    return StoredPromptTemplate.objects.filter(workspace_id=workspace_id, key=key).order_by("-version").first()


def _has_voice(stored: StoredPromptTemplate) -> bool:
    return bool(stored.tone or stored.audience or stored.words_to_avoid or stored.phrases_to_include)


def brand_voice_get(*, workspace_id: int) -> StoredPromptTemplate | None:
    return _latest(workspace_id, BRAND_VOICE_KEY)


def brand_voice_save(*, access: Access, tone: str, audience: str,
                     words_to_avoid: list[str], phrases_to_include: list[str]) -> StoredPromptTemplate:
    """A new version of the workspace's brand voice (workspace admins)."""
    access.require_role(Role.ADMIN)
    return prompt_template_save(workspace=access.workspace, key=BRAND_VOICE_KEY, body="Workspace brand voice", actor=access.actor,
                                tone=tone, audience=audience, words_to_avoid=words_to_avoid,
                                phrases_to_include=phrases_to_include)


def prompt_template_resolver(workspace_id: int):
    """For RunContext: the latest stored version for a key (or the plugin's default body),
    with the workspace's brand voice where the template has no voice of its own."""

    @functools.cache
    def brand_voice() -> StoredPromptTemplate | None:  # once per job run, not per template
        return brand_voice_get(workspace_id=workspace_id)

    @functools.cache
    def resolve(key: str, default_body: str) -> PromptTemplate:
        stored = _latest(workspace_id, key)
        body, version = (stored.body, stored.version) if stored else (default_body, 0)
        voice = stored if stored is not None and _has_voice(stored) else brand_voice()
        if voice is None:
            return PromptTemplate(key=key, body=body, version=version)
        return PromptTemplate(
            key=key, body=body, version=version, tone=voice.tone, audience=voice.audience,
            words_to_avoid=tuple(voice.words_to_avoid), phrases_to_include=tuple(voice.phrases_to_include),
            voice_version=voice.version if voice.key == BRAND_VOICE_KEY else 0,
        )

    return resolve


@transaction.atomic
def workspace_plugins_set(*, access: Access, enabled: list[str]) -> Workspace:
    """Choose which installed plugins' use cases the workspace offers (admins only; audited)."""
    from pressroom.plugins.selectors import installed_plugins

    access.require_role(Role.ADMIN)
    installed = [plugin.label for plugin in installed_plugins()]
    unknown = sorted(set(enabled) - set(installed))
    if unknown:
        raise InputInvalid("Unknown plugins.", {"enabled": [f"Not installed: {', '.join(unknown)} (installed: {', '.join(installed)})."]})
    workspace = Workspace.objects.select_for_update().get(pk=access.workspace.pk)
    before = sorted(workspace.disabled_plugins)
    workspace.disabled_plugins = sorted(set(installed) - set(enabled))
    workspace.save(update_fields=["disabled_plugins"])
    access.workspace.disabled_plugins = workspace.disabled_plugins  # the caller's copy agrees
    audit_record(workspace_id=workspace.pk, action="workspace.plugins_changed", object_type="workspace", object_id=workspace.pk,
                 actor=access.actor, data={"disabled_before": before, "disabled_after": workspace.disabled_plugins})
    return workspace
