"""Template residue (placeholders a person was meant to fill in) and meta-text (the model
talking about the task instead of writing the copy)."""
from __future__ import annotations

import re

from pressroom.safety.checks.base import Evidence, Subject
from pressroom.safety.checks.pii import PLACEHOLDERS as PII_REPLACEMENTS
from pressroom.safety.checks.quality.base import FIELD_LABELS, QualityCheck, segments, spans

I = re.IGNORECASE
REDACTION_MARKERS = {*PII_REPLACEMENTS.values(), "[REDACTED]"}
_FIELD_WORDS = (r"Name|Title|Address|Email|E-mail|Phone|Number|Website|URL|Link|Logo|Signature|Position|Role|Company"
                r"|Brand|Product|Date|Time|Location|City|Code|Offer|Discount|Price")
_OWNER_WORDS = (r"Your|Customer|Client|First|Last|Full|Company|Brand|Product|Recipient|Sender|User|Business|Store"
                r"|Shop|Event|Contact|Greeting|Member|Subscriber|Discount|Promo")
PLACEHOLDERS: list[tuple[re.Pattern, str]] = [
    # [User Name], [Your Title], [ ], but not a markdown link's [text](url) or a footnote [1].
    (re.compile(r"\[(?=[^\[\]\n]*[A-Za-z]|\s*\])[^\[\]\n]{0,60}\](?!\()"), "placeholder in square brackets"),
    (re.compile(r"\{\{?[^{}\n]{0,60}\}?\}"), "template variable in curly braces"),
    (re.compile(r"<\s*/?\s*[A-Za-z][^<>\n]{0,60}>"), "placeholder or markup in angle brackets"),
    (re.compile(r"\bplace\s?-?holders?\b", I), "the word placeholder"),
    (re.compile(r"\blorem\b|\bipsum\b|\bdolor sit\b|\bconsectetur\b", I), "lorem ipsum filler"),
    (re.compile(r"\b(?:TBD|TBC|TBA|TODO|FIXME|N/A)\b|\?{3,}"), "an unfinished marker"),
    (re.compile(r"(?<![\w-])(?:X{2,}|x{3,})(?!\w)"), "filler Xs"),
    (re.compile(r"_{3,}|\.{6,}"), "a blank to fill in"),
    (re.compile(r"%[A-Z_]{2,}%|\*\|[A-Z_]+\|\*|\$\{?[A-Z_]{3,}\}?"), "a merge tag"),
    (re.compile(rf"\b(?:{_OWNER_WORDS})\s+(?:{_FIELD_WORDS})\b"), "a template field name"),
    (re.compile(r"\b(?:insert|fill in)\b[^.!?\n]{0,40}|\b(?:enter|add|type|put)\s+(?:your|the)\s+"
                r"(?:\w+\s+)?(?:name|link|url|text|logo|details|info|information|e-?mail|number|copy|image)\s+here\b",
                I), "an instruction to fill in"),
    (re.compile(r"\b(?:sample|example|dummy|filler) (?:text|copy|name|headline)\b", I), "sample text"),
]

_COPY_WORDS = (r"ad|ads|ad copy|copy|copies|template|templates|version|versions|headlines?|posts?|tweets?|captions?"
               r"|subject lines?|preview(?: text)?|descriptions?|drafts?|options?|examples?|variants?|variations?"
               r"|calls? to action|ctas?|e-?mails?|taglines?|slogans?|suggestions?|ideas?|texts?|blurbs?|pitch(?:es)?"
               r"|messages?|replies?|responses?")
_TASK_WORDS = (r"copy|ad|post|tweet|caption|headline|tagline|template|draft|version|variant|subject line|preview text"
               r"|description|cta|call to action|e-?mail copy|text|message|output|response|content")
META: list[tuple[re.Pattern, str]] = [
    (re.compile(rf"\bhere(?:'s|’s| is| are)\b[^.!?\n]{{0,80}}?\b(?:{_COPY_WORDS})\b", I), "talks about the task"),
    (re.compile(r"\bas an? (?:[a-z]+ )?(?:ai|a\.i\.|artificial intelligence|language model|llm|ai assistant|assistant|copywriter)\b", I),
     "talks about itself as an AI"),
    (re.compile(r"\b(?:i am|i'm|i’m) (?:just )?(?:an? )?(?:ai|language model|assistant|chatbot)\b", I), "talks about itself as an AI"),
    (re.compile(r"\bi (?:can(?:not|'t|’t)|am unable to|won't be able to) (?:help|write|assist|create|provide|generate|"
                r"complete|fulfil|fulfill)\b", I), "a refusal instead of copy"),
    (re.compile(r"(?:^|(?<=\n)|(?<=: ))\s*(?:sure|certainly|of course|absolutely|okay|ok|got it|great)\s*[!,.:]+\s*"
                r"(?:here|i |i'm|i’m|below|let|this is|these are)", I), "a chat reply instead of copy"),
    (re.compile(r"(?:^|(?<=\n)|(?<=: ))\s*(?:sure|certainly)\s*[!,.]", I), "a chat reply instead of copy"),
    (re.compile(r"\b(?:note|notes|please note|nb|n\.b\.)\s*:", I), "a note about the copy"),
    (re.compile(rf"\b(?:this|the above|the following|these|the)\s+(?:{_TASK_WORDS})s?\s+(?:is|are|was|uses|use|highlights|"
                r"emphasi[sz]es|targets|should|will|has|have|can|could|aims|captures|focuses|includes|conveys|keeps|stays|"
                r"fits|reads|appeals|is designed|is written|combines)\b", I), "talks about the copy"),
    (re.compile(r"\bi hope (?:this|that|these|you like)\b|\bfeel free to (?:adjust|modify|customi[sz]e|tweak|edit|change|"
                r"use|replace)\b|\byou (?:can|could|may) (?:adjust|customi[sz]e|tweak|replace|modify|edit|change) (?:the|this|"
                r"it|these)\b|\blet me know if you(?:'d| would)? (?:like|want|need)\b", I), "talks to the person who asked"),
    (re.compile(r"\b(?:word|character|char) (?:count|limit)\b|\(\s*\d+\s*(?:characters|chars|words)\s*\)|\b(?:in|within|"
                r"under) \d+ (?:characters|words)\b", I), "talks about the length limit"),
    (re.compile(r"\b(?:option|version|variant|variation|alternative)\s*(?:#\s*)?(?:\d+|[A-D])\s*[:)]", I), "numbers its options"),
    (re.compile(rf"\b(?:write|create|generate|compose|draft)\s+(?:one|a|an|the)\s+(?:\w+\s+){{0,3}}?(?:{_TASK_WORDS})\b", I),
     "repeats the instructions"),
    (re.compile(r"\b(?:target audience|tone of voice|tone|keywords|word count)\s*:", I), "a briefing label"),
    # The prompt's own instructions coming back as copy ("Invite the reader to act.",
    # "Include the exact name in double quotes, as per your request.").
    (re.compile(r"\b(?:invite|ask|encourage|urge|prompt|remind|tell|get|engage|address) the readers?\b"
                r"|\bthe (?:above|following) (?:message|text|post|copy|e-?mail|answer)\b"
                r"|\bas per your (?:request|instructions?|brief)\b|\bin (?:double|single) quotes\b"
                r"|\bno (?:hashtags|links|emojis|greeting|salutation)\b"
                r"|(?:^|(?<=\n)|(?<=[.!?:] ))\s*(?:rewrite|reply with|fill (?:it|this) in)\b", I), "repeats the instructions"),
    (re.compile(r"\b(?:assist|help)(?: you)? with your (?:request|task|campaign|copy|brief|next campaign)\b"
                r"|\byour (?:task|request) is (?:complete|done|ready)\b|\bi(?:'m| am|’m) (?:\w+, )?your (?:\w+ )?"
                r"(?:assistant|coach|copywriter|writer)\b", I), "talks to the person who asked"),
    (re.compile(r"\b(?:[a-z]+|\d+)-to-(?:[a-z]+|\d+)-words?\b|\b\d+\s*(?:-|–|to)\s*\d+\s+words\b"
                r"|\b(?:no more than|at most|up to|fewer than|less than) \d+ (?:words|characters)\b", I),
     "talks about the length limit"),
    (re.compile(r"\b(?:marketing|senior|junior|professional) copywriter\b", I), "talks about the writer's role"),
]
_LEAK_LABELS = (*FIELD_LABELS, "tagline", "slogan", "title", "sender", "hashtags", "ad copy", "copy", "signature",
                "greeting", "sign-off", "closing", "image", "visual", "button text", "cta text", "headline \\d", "body copy",
                "sentence", "answer", "response", "output", "written by", "author", "byline",
                # The brief's own labels, copied from the prompt into the copy.
                "campaign", "audience", "details", "topic", "platform", "facts", "product", "product name")
LABEL_LEAK = re.compile(
    r"(?:^|(?<=[\s/|(\-–—*\"'“]))(?:" + "|".join(label.replace(" ", r"\s+") for label in _LEAK_LABELS) + r")\s*:(?!\d)", I)


class PlaceholderCheck(QualityCheck):
    """Template residue: [User Name], {name}, <insert link>, Placeholder:, lorem ipsum, TBD, XXX."""

    name = "quality_placeholder"

    def find(self, subject: Subject, policy) -> list[Evidence]:
        found = [e for pattern, reason in PLACEHOLDERS for e in spans(pattern, subject.text, reason, "placeholder")]
        # "[EMAIL]" where the workspace's PII redaction removed an address is intended, not residue.
        return sorted((e for e in found if e.text not in REDACTION_MARKERS), key=lambda e: e.start)


class MetaTextCheck(QualityCheck):
    """The model talking about the task ("Here's a concise ad template", "As an AI", "Note:"),
    or a field label ("Headline:") inside a field's text."""

    name = "quality_meta_text"

    def find(self, subject: Subject, policy) -> list[Evidence]:
        found = [e for pattern, reason in META for e in spans(pattern, subject.text, reason, "meta_text")]
        for segment in segments(subject.text):
            found += spans(LABEL_LEAK, segment.text, "a field label inside the copy", "meta_text", offset=segment.start)
        return sorted(found, key=lambda e: e.start)
