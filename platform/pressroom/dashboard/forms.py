"""Dashboard forms. A use case's form is generated from its input JSON schema (the same
pydantic model that validates REST requests), so a plugin never writes form code. Django
fields only shape the widgets and parse strings; the use case's schema, run by the job
service, is the single validator, and its field-level messages land on these fields."""
from __future__ import annotations

import json
from typing import Any

from django import forms

from pressroom.accounts.models import Scope
from pressroom.safety.models import HARM_CATEGORIES, QUALITY_FACT_TYPES, banned_topics_problem

JSON_HELP = "JSON."
TUNING_FIELDS = ("variants", "seed")


def _unwrap_optional(prop: dict) -> dict:
    """`X | None` appears as anyOf [X, null]: the field is X (left empty, it is None)."""
    options = prop.get("anyOf")
    if options:
        concrete = [option for option in options if option.get("type") != "null"]
        if len(concrete) == 1:
            return {**prop, **concrete[0]}
    return prop


class LinesField(forms.CharField):
    """A list of strings, one per line."""

    widget = forms.Textarea(attrs={"rows": 3})

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value


PAIRS_EXAMPLE = "material: recycled wool"


def _json_pairs(text: str) -> dict[str, str]:
    """A JSON object of names to plain values, for those who paste one."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, RecursionError):
        raise forms.ValidationError(
            f"This looks like a JSON object but is not valid JSON (names and values need double quotes). "
            f"Or write one 'name: value' per line, e.g. {PAIRS_EXAMPLE}.") from None
    if not isinstance(data, dict) or any(isinstance(v, (dict, list)) or v is None for v in data.values()):
        raise forms.ValidationError(f"Give a JSON object of names to plain values, or one 'name: value' per line, e.g. {PAIRS_EXAMPLE}.")
    return {str(name): v if isinstance(v, str) else json.dumps(v) for name, v in data.items()}


def _pair_from_line(number: int, line: str) -> tuple[str, str]:
    name, colon, text = line.partition(":")
    name = name.strip()
    if not colon or not name:
        raise forms.ValidationError(f"Line {number}: write it as 'name: value', e.g. {PAIRS_EXAMPLE}.")
    if name[0] in "{['\"" or text.strip().endswith("}"):
        # A Python or JSON dict that did not parse: taking it apart by colons makes garbage.
        raise forms.ValidationError(f"Line {number}: write plain 'name: value' lines (no braces or quotes), e.g. {PAIRS_EXAMPLE}; "
                                    "or give a valid JSON object.")
    return name, text.strip()


class PairsField(forms.CharField):
    """A string-to-string mapping: one `name: value` per line, or a JSON object."""

    widget = forms.Textarea(attrs={"rows": 4})

    def to_python(self, value: Any) -> dict[str, str]:
        text = super().to_python(value) or ""
        if text.strip().startswith("{"):
            return _json_pairs(text)
        pairs = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                name, value_text = _pair_from_line(number, line)
                pairs[name] = value_text
        return pairs

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(f"{k}: {v}" for k, v in value.items()) if isinstance(value, dict) else value


class TopicsField(forms.CharField):
    """Banned topics, one per line: the topic in plain words, then optional example
    sentences after "|"; a line that starts with "block:" blocks instead of flagging."""

    widget = forms.Textarea(attrs={"rows": 4})

    def to_python(self, value: Any) -> list[dict]:
        topics = []
        for number, line in enumerate((super().to_python(value) or "").splitlines(), start=1):
            if not line.strip():
                continue
            action, colon, rest = line.partition(":")
            prefixed = bool(colon) and action.strip().lower() in ("block", "flag")
            topic, *examples = [part.strip() for part in (rest if prefixed else line).split("|")]
            if not topic:
                raise forms.ValidationError(f"Line {number}: write the topic before any \"|\" examples.")
            entry: dict[str, Any] = {"topic": topic, "action": action.strip().lower() if prefixed else "flag"}
            if any(examples):
                entry["examples"] = [e for e in examples if e]
            topics.append(entry)
        return topics

    def validate(self, value: list[dict]) -> None:
        super().validate(value)
        problem = banned_topics_problem(value)
        if problem:
            raise forms.ValidationError(problem)

    def prepare_value(self, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return "\n".join(("block: " if t.get("action") == "block" else "") + " | ".join([t["topic"], *t.get("examples", [])])
                         for t in value)


def _threshold_field(label: str, help_text: str = "", required: bool = True) -> forms.FloatField:
    return forms.FloatField(min_value=0, max_value=1, label=label, help_text=help_text, required=required,
                            widget=forms.NumberInput(attrs={"step": "0.01", "min": 0, "max": 1}))


def _refuse_constant(name: str):
    # Python's json reads NaN and Infinity; JSON (and PostgreSQL's jsonb) has no such numbers.
    raise forms.ValidationError(f"Not valid JSON: {name} is not a JSON number.")


class JsonField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono"})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text:
            return None
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not valid JSON: {error.msg} (line {error.lineno}, column {error.colno}).") from None
        except RecursionError:
            raise forms.ValidationError("Not valid JSON: nested too deeply.") from None

    def prepare_value(self, value: Any) -> Any:
        return json.dumps(value, indent=2) if isinstance(value, (dict, list)) else value


def _number_attrs(prop: dict) -> dict[str, Any]:
    attrs = {}
    if "minimum" in prop:
        attrs["min"] = prop["minimum"]
    if "maximum" in prop:
        attrs["max"] = prop["maximum"]
    if "multipleOf" in prop:
        attrs["step"] = prop["multipleOf"]
    return attrs


# pydantic titles a field from its name ("cta" -> "Cta"); these words read as initials.
INITIALISMS = {"api": "API", "csv": "CSV", "cta": "CTA", "id": "ID", "json": "JSON", "sku": "SKU", "url": "URL", "urls": "URLs"}


def _label(prop: dict) -> str | None:
    title = prop.get("title")
    return " ".join(INITIALISMS.get(word.lower(), word) for word in title.split(" ")) if title else None


def _field_for(prop: dict) -> forms.Field:
    """Django parses the strings; requiredness and bounds are the schema's to judge (one
    validator, one set of messages), so every field is optional at this level."""
    prop = _unwrap_optional(prop)
    common = {"required": False, "label": _label(prop), "help_text": prop.get("description", "")}
    kind, items = prop.get("type"), prop.get("items", {})
    if "enum" in prop:
        return forms.ChoiceField(choices=[(v, str(v).replace("_", " ")) for v in prop["enum"]], **common)
    if kind == "array" and "enum" in items:
        return forms.MultipleChoiceField(choices=[(v, v) for v in items["enum"]], widget=forms.CheckboxSelectMultiple, **common)
    if kind == "array" and items.get("type") == "string":
        return LinesField(**{**common, "help_text": common["help_text"] or "One per line."})
    if kind == "object" and prop.get("additionalProperties", {}).get("type") == "string":
        return PairsField(**{**common, "help_text": common["help_text"] or "One 'name: value' per line."})
    if kind == "integer":
        return forms.IntegerField(widget=forms.NumberInput(attrs=_number_attrs(prop)), **common)
    if kind == "number":
        return forms.FloatField(widget=forms.NumberInput(attrs={"step": "any", **_number_attrs(prop)}), **common)
    if kind == "boolean":
        return forms.BooleanField(**common)
    if kind == "string":
        long_text = prop.get("maxLength", 10_000) > 300
        widget = forms.Textarea(attrs={"rows": 3}) if long_text else forms.TextInput()
        return forms.CharField(widget=widget, strip=True, **common)
    return JsonField(**{**common, "help_text": common["help_text"] or JSON_HELP})


# -- working examples from the schema ---------------------------------------------------
# A value for a string the schema says nothing more about, by format; None: no honest guess.
STRING_FORMAT_EXAMPLES = {"date-time": "2024-05-01T10:00:00Z", "date": "2024-05-01", "email": "ana@example.com",
                          "uri": "https://example.com/", "uuid": "00000000-0000-4000-8000-000000000000"}
MAX_EXAMPLE_DEPTH = 5


def _resolved(prop: dict, defs: dict) -> dict:
    ref = prop.get("$ref", "")
    return {**defs.get(ref.rsplit("/", 1)[-1], {}), **{k: v for k, v in prop.items() if k != "$ref"}} if ref else prop


def _has_value(value: Any) -> bool:
    return value not in (None, "", [], {})


def _scalar_example(prop: dict, name: str) -> Any:
    kind = prop.get("type")
    if kind == "string" and "pattern" not in prop:
        return STRING_FORMAT_EXAMPLES.get(prop.get("format", ""), name.replace("_", " ") if len(name) >= prop.get("minLength", 0) else None)
    if kind in ("integer", "number"):
        return prop.get("minimum", prop.get("exclusiveMinimum", 0) + 1)
    if kind == "boolean":
        return True
    return None


def _derived_example(prop: dict, defs: dict, name: str = "value", depth: int = 0) -> Any:
    """A value the schema accepts, built from its examples, defaults, enums and types;
    None where some required part cannot be derived (better no example than a wrong one)."""
    prop = _resolved(_unwrap_optional(prop), defs)
    if prop.get("examples"):
        return prop["examples"][0]
    if _has_value(prop.get("default")):
        return prop["default"]
    if prop.get("enum"):
        return prop["enum"][0]
    if depth > MAX_EXAMPLE_DEPTH:
        return None
    if prop.get("type") == "object" and "properties" in prop:
        wanted = [n for n in prop["properties"] if n in prop.get("required", ())] or list(prop["properties"])
        values = {n: _derived_example(prop["properties"][n], defs, n, depth + 1) for n in wanted}
        return values if all(v is not None for v in values.values()) else None
    if prop.get("type") == "array":
        item = _derived_example(prop.get("items", {}), defs, name, depth + 1)
        return [item] if item is not None else None
    return _scalar_example(prop, name)


def schema_example(prop: dict, defs: dict) -> Any:
    """A working example for a form field: the schema's own `examples` first; for the
    structured fields (JSON objects and lists of them) one built from the schema. Plain
    fields with a default show it as their initial value and need none."""
    concrete = _resolved(_unwrap_optional(prop), defs)
    if prop.get("examples") or concrete.get("examples"):
        return (prop.get("examples") or concrete["examples"])[0]
    structured = concrete.get("type") == "object" or (
        concrete.get("type") == "array" and _resolved(concrete.get("items", {}), defs).get("type") == "object")
    if structured and not _has_value(concrete.get("default")):
        return _derived_example(concrete, defs)
    return None


def _example_text(field: forms.Field, example: Any) -> str | None:
    """The example as typed into this field (one per line, name: value, JSON)."""
    if isinstance(field, (forms.ChoiceField, forms.BooleanField)) or example is None:
        return None  # choices and ticks show their own options
    if isinstance(field, JsonField):
        return json.dumps(example, ensure_ascii=False)
    text = field.prepare_value(example)
    return text if isinstance(text, str) else str(text)


def attach_example(field: forms.Field, prop: dict, defs: dict) -> None:
    """A field whose help already shows an example ("e.g.") keeps it as written."""
    field.example = None
    if "e.g." in str(field.help_text):
        return
    field.example = _example_text(field, schema_example(prop, defs))


class UseCaseForm(forms.Form):
    """Built per use case from its JSON schema; `raw_input()` is what the job service validates."""

    priority = forms.IntegerField(min_value=0, max_value=9, initial=5, required=False, help_text="9 is most urgent; empty means 5.",
                                  widget=forms.NumberInput(attrs={"min": 0, "max": 9}))

    def __init__(self, *args: Any, schema: dict, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        required = set(schema.get("required", ()))
        self.input_names = []
        fields = {}
        for name, prop in schema.get("properties", {}).items():
            field = _field_for(prop)
            field.schema_required = name in required
            attach_example(field, prop, schema.get("$defs", {}))
            if "default" in prop and prop["default"] is not None:
                field.initial = prop["default"]
            fields[name] = field
            self.input_names.append(name)
        # What the use case is about first; the shared knobs (variants, seed) after it.
        ordered = sorted(fields, key=lambda name: name in TUNING_FIELDS)
        self.fields = {**{name: fields[name] for name in ordered}, "priority": self.fields["priority"]}
        for name, field in self.fields.items():
            field.widget.attrs.setdefault("aria-describedby", f"err-{name} help-{name}")

    def raw_input(self) -> dict[str, Any]:
        """Cleaned values, leaving out empty optional ones so the schema's defaults apply."""
        data = {}
        for name in self.input_names:
            value = self.cleaned_data.get(name)
            if value in (None, "", [], {}):
                continue  # absent: the schema applies its default, or says it is required
            data[name] = value
        return data

    @property
    def chosen_priority(self) -> int:
        value = self.cleaned_data.get("priority")
        return 5 if value is None else value

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        """Field-level messages from the service: `channels.0` belongs to `channels`.
        A field Django already could not parse keeps that message alone."""
        for path, messages in errors.items():
            name = path.split(".")[0]
            if name in self.errors:
                continue
            for message in messages:
                self.add_error(name if name in self.fields else None, message if name in self.fields else f"{path}: {message}")


class ReviewForm(forms.Form):
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class ScheduleForm(forms.Form):
    """A wall-clock time, read in the workspace's zone (the view activates it)."""

    publish_at = forms.DateTimeField(
        label="Publish at", input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"))


class EditForm(forms.Form):
    text = forms.CharField(max_length=20_000, widget=forms.Textarea(attrs={"rows": 8}), strip=False)
    comment = forms.CharField(required=False, max_length=2000)


class BrandVoiceForm(forms.Form):
    tone = forms.CharField(required=False, max_length=200, help_text="e.g. warm, confident, plain-spoken")
    audience = forms.CharField(required=False, max_length=200)
    words_to_avoid = LinesField(required=False, help_text="Kept out of prompts' wording. One per line.")
    phrases_to_include = LinesField(required=False, help_text="Asked for in every text. One per line.")


FACT_TYPE_LABELS = {"url": "Web addresses (URLs)", "email": "E-mail addresses", "price": "Prices",
                    "percentage": "Percentages", "date": "Dates and years", "phone": "Phone numbers"}


class SafetyPolicyForm(forms.Form):
    auto_approve = forms.BooleanField(required=False, help_text="Approve artifacts that pass screening without a reviewer.")
    banned_terms = LinesField(required=False, help_text="Blocked wherever they appear, obfuscated or not. One per line.")
    competitor_names = LinesField(required=False, help_text="Flagged for review. One per line.")
    required_disclaimers = PairsField(required=False, help_text="'use-case key: phrase' per line, e.g. 'marketing.ad_copy: Terms apply.'")
    max_chars = forms.IntegerField(required=False, min_value=1, help_text="Longest text any artifact may have.")
    toxicity_flag = _threshold_field("Toxicity flag threshold", "Changing it sets every toxicity category.")
    toxicity_block = _threshold_field("Toxicity block threshold")
    # Not required: left empty, a threshold keeps its value.
    harm_flag = _threshold_field("Harmful intent flag threshold",
                                 "Threats, incitement, self-harm, hate, harassment, sexual content. Changing it sets every category.",
                                 required=False)
    harm_block = _threshold_field("Harmful intent block threshold", required=False)
    banned_topics = TopicsField(
        required=False, label="Banned topics",
        help_text='One topic per line in plain words, example sentences after "|"; start with "block:" to block (flagging is the default). '
                  'e.g. claims that a product cures a disease | This tea cures diabetes.',
    )
    topic_threshold = _threshold_field("Banned-topic similarity", "Lower catches more (and flags more by mistake).",
                                       required=False)
    quality_enabled = forms.BooleanField(required=False, label="Quality checks",
                                         help_text="Flag unusable copy: placeholders, meta-text, loops, cut-off or empty fields, made-up facts.")
    quality_checks = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, label="Quality checks in use")
    quality_fact_types = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple, label="Facts that must come from the brief",
        choices=[(kind, FACT_TYPE_LABELS.get(kind, kind.capitalize())) for kind in QUALITY_FACT_TYPES],
        help_text="A generated text naming one of these that the brief does not contain is flagged.")
    quality_extra_hashtags_allowed = forms.IntegerField(required=False, min_value=0, max_value=30,
                                                        label="Extra hashtags allowed",
                                                        help_text="Hashtags a social post may add beyond those asked for.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["quality_checks"].choices = [(name, _check_title(name)) for name in quality_check_names()]

    @classmethod
    def initial_from(cls, policy) -> dict[str, Any]:
        return {**cls._safety_initial(policy), **cls._quality_initial(policy)}

    @staticmethod
    def _quality_initial(policy) -> dict[str, Any]:
        return {"quality_enabled": policy.quality_enabled,
                "quality_checks": [name for name in quality_check_names() if name not in policy.quality_disabled_checks],
                "quality_fact_types": policy.quality_fact_types,
                "quality_extra_hashtags_allowed": policy.quality_extra_hashtags_allowed}

    @staticmethod
    def _safety_initial(policy) -> dict[str, Any]:
        disclaimers = {key: "; ".join(v) if isinstance(v, list) else v for key, v in policy.required_disclaimers.items()}
        return {"auto_approve": policy.auto_approve, "banned_terms": policy.banned_terms,
                "competitor_names": policy.competitor_names, "required_disclaimers": disclaimers,
                "max_chars": policy.max_chars, "toxicity_flag": policy.toxicity_flag_thresholds.get("toxicity", 0.5),
                "toxicity_block": policy.toxicity_block_thresholds.get("toxicity", 0.85),
                "harm_flag": min(policy.harm_flag_thresholds.values(), default=0.5),
                "harm_block": min(policy.harm_block_thresholds.values(), default=0.9),
                "banned_topics": policy.banned_topics, "topic_threshold": policy.topic_threshold}

    def changes_for(self, policy) -> dict[str, Any]:
        """Only the fields the admin changed, so per-category thresholds set elsewhere (the
        admin, the API) survive an unrelated save. A changed threshold applies to every category."""
        data, changed = self.cleaned_data, set(self.changed_data)
        changes: dict[str, Any] = {name: data[name] for name in (
            "auto_approve", "banned_terms", "competitor_names", "max_chars", "banned_topics") if name in changed}
        if "topic_threshold" in changed and data["topic_threshold"] is not None:
            changes["topic_threshold"] = data["topic_threshold"]
        if "required_disclaimers" in changed:
            changes["required_disclaimers"] = {key: [p.strip() for p in value.split(";") if p.strip()]
                                               for key, value in data["required_disclaimers"].items()}
        if "toxicity_flag" in changed:
            changes["toxicity_flag_thresholds"] = {category: data["toxicity_flag"] for category in policy.toxicity_flag_thresholds}
        if "toxicity_block" in changed:
            changes["toxicity_block_thresholds"] = {category: data["toxicity_block"] for category in policy.toxicity_block_thresholds}
        for name in ("harm_flag", "harm_block"):
            if name in changed and data[name] is not None:
                changes[f"{name}_thresholds"] = {category: data[name] for category in HARM_CATEGORIES}
        return {**changes, **self._quality_changes(changed)}

    def _quality_changes(self, changed: set[str]) -> dict[str, Any]:
        data, changes = self.cleaned_data, {}
        if "quality_enabled" in changed:
            changes["quality_enabled"] = data["quality_enabled"]
        if "quality_checks" in changed:
            changes["quality_disabled_checks"] = [name for name in quality_check_names() if name not in data["quality_checks"]]
        if "quality_fact_types" in changed:
            changes["quality_fact_types"] = list(data["quality_fact_types"])
        if "quality_extra_hashtags_allowed" in changed and data["quality_extra_hashtags_allowed"] is not None:
            changes["quality_extra_hashtags_allowed"] = data["quality_extra_hashtags_allowed"]
        return changes


def quality_check_names() -> list[str]:
    from pressroom.safety.registry import stage_checks

    return sorted(check.name for check in stage_checks("quality"))


def _check_title(name: str) -> str:
    """quality_unsupported_fact -> Unsupported fact."""
    return name.removeprefix("quality_").replace("_", " ").capitalize()


class PluginsForm(forms.Form):
    enabled = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, label="Plugins offered",
                                        help_text="Their use cases appear in the catalogue and the API, and jobs can be created.")

    def __init__(self, *args, plugins, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["enabled"]
        field.choices = [(p.label, f"{p.title} ({len(p.use_cases)} use cases)") for p in plugins]
        field.initial = [p.label for p in plugins if p.label not in (workspace.disabled_plugins or [])]


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(choices=Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       initial=[Scope.CONTENT_READ, Scope.JOBS_WRITE])
    expires_in_days = forms.IntegerField(required=False, min_value=1, max_value=3650, help_text="Leave empty for no expiry.")
