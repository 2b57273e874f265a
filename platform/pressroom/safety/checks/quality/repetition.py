"""Loops small models fall into: the same sentence again, a phrase going round, a word
stuttering ("TrailRunner TrailRunner", "great great great")."""
from __future__ import annotations

import re
from collections import defaultdict

from pressroom.safety.checks.base import Evidence, Subject
from pressroom.safety.checks.quality.base import QualityCheck, setting

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
# Doubles that are good English (or brand voice) rather than a stutter.
ALLOWED_DOUBLES = {"that", "had", "very", "really", "bye", "knock", "chop", "tut", "hush", "yum", "ha", "go", "no", "so",
                   "is", "do", "far", "long", "more", "well", "night", "choo", "bling", "ooh", "la", "can", "boo", "yes"}
LOOP_WORDS, LOOP_COUNT = 4, 3      # a 4-word phrase three times is a loop
PHRASE_WORDS, PHRASE_COUNT = 7, 2  # a 7-word phrase twice is a repeated passage


def _words(text: str) -> list[re.Match]:
    return list(WORD.finditer(text))


def repeated_sentences(text: str, most: int) -> list[Evidence]:
    seen: dict[str, int] = defaultdict(int)
    found = []
    for match in SENTENCE.finditer(text):
        words = [w.group().casefold() for w in _words(match.group())]
        if len(words) < 3:
            continue  # "Shop now." twice is a choice, not a loop
        key = " ".join(words)
        seen[key] += 1
        if seen[key] > most:
            start = match.start() + len(match.group()) - len(match.group().lstrip())
            found.append(Evidence(start, match.end(), match.group().strip(), "the same sentence again", category="repetition"))
    return found


LINE_REPEATS = 3  # the same line three times (emoji rows, "Shop now" lines) is a loop


def repeated_lines(text: str) -> list[Evidence]:
    """A line said three times, whatever it holds: loops of emoji or of short lines have too
    few words for the sentence rule."""
    seen: dict[str, int] = defaultdict(int)
    for match in re.finditer(r"[^\n]+", text):
        line = match.group().strip()
        if not line:
            continue
        seen[line.casefold()] += 1
        if seen[line.casefold()] == LINE_REPEATS:
            start = match.start() + len(match.group()) - len(match.group().lstrip())
            return [Evidence(start, start + len(line), line, f"the same line {LINE_REPEATS} times", category="repetition")]
    return []


def word_runs(text: str, longest: int) -> list[Evidence]:
    """A word repeated more than `longest` times in a row (two times for allowed doubles)."""
    words, found, index = _words(text), [], 0
    while index < len(words):
        end = index + 1
        while end < len(words) and words[end].group().casefold() == words[index].group().casefold() \
                and not text[words[end - 1].end():words[end].start()].strip():
            end += 1
        run, word = end - index, words[index].group().casefold()
        limit = max(longest, 2) if word in ALLOWED_DOUBLES or word.isdigit() else longest
        if run > limit:
            found.append(Evidence(words[index].start(), words[end - 1].end(), text[words[index].start():words[end - 1].end()],
                                  f"the same word {run} times in a row", category="repetition"))
        index = end
    return found


def tandem_loop(words: list[re.Match], folded: list[str]) -> list[Evidence]:
    """A short phrase said three times in a row: "and more and more and more"."""
    for size in range(2, 7):
        for i in range(len(folded) - 3 * size + 1):
            if folded[i:i + size] == folded[i + size:i + 2 * size] == folded[i + 2 * size:i + 3 * size]:
                first, last = words[i], words[i + 3 * size - 1]
                return [Evidence(first.start(), last.end(), first.string[first.start():last.end()], "a phrase going round in a loop",
                                 category="repetition")]
    return []


def phrase_loops(text: str) -> list[Evidence]:
    words = _words(text)
    folded = [w.group().casefold() for w in words]
    loop = tandem_loop(words, folded)
    if loop:
        return loop
    for size, count, reason in ((PHRASE_WORDS, PHRASE_COUNT, "a phrase repeated"), (LOOP_WORDS, LOOP_COUNT, "a phrase going round in a loop")):
        starts: dict[tuple, list[int]] = defaultdict(list)
        for i in range(len(words) - size + 1):
            key = tuple(folded[i:i + size])
            if not starts[key] or i - starts[key][-1] >= size:  # overlapping copies of one phrase count once
                starts[key].append(i)
        for key, positions in starts.items():
            if len(positions) >= count:
                first, last = words[positions[1]], words[positions[1] + size - 1]
                return [Evidence(first.start(), last.end(), text[first.start():last.end()], reason, category="repetition")]
    return []


class RepetitionCheck(QualityCheck):
    name = "quality_repetition"

    def thresholds(self, policy) -> dict:
        return {"max_word_run": setting(policy, "quality_max_word_run", 1),
                "max_sentence_repeats": setting(policy, "quality_max_sentence_repeats", 1)}

    def find(self, subject: Subject, policy) -> list[Evidence]:
        limits = self.thresholds(policy)
        sentences = repeated_sentences(subject.text, limits["max_sentence_repeats"])
        loops = [] if sentences else (phrase_loops(subject.text) or repeated_lines(subject.text))  # a repeated sentence is already the loop
        return sorted(sentences + loops + word_runs(subject.text, limits["max_word_run"]), key=lambda e: e.start)
