from pydantic import Field

from pressroom.plugins import ArtifactDraft, GenerateText, RunContext, UseCase, UseCaseInput, UseCaseRun


class EchoInput(UseCaseInput):
    words: list[str] = Field(min_length=1, max_length=5)


class Echo(UseCase):
    key = "dummy.echo"
    title = "Echo"
    description = "Asks the model to repeat words; two steps."
    modality = "text"
    Input = EchoInput
    expected_steps = 2

    def run(self, data: EchoInput, ctx: RunContext) -> UseCaseRun:
        first = yield GenerateText(prompts=(f"Repeat: {' '.join(data.words)}",), max_new_tokens=8)
        second = yield GenerateText(prompts=(f"{ctx.settings['api_token']}: {first[0].text}",), max_new_tokens=8)
        return [ArtifactDraft(kind="text", variant_index=0, text=second[0].text, params={}, provenance=second[0].provenance)]


class Clash(UseCase):
    key = "core.text"  # already taken by a built-in use case
    title = "Clash"
    description = "Duplicate key."
    Input = EchoInput
