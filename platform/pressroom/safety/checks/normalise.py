"""Text normalisation that defeats simple obfuscation, keeping a map back to the
original text so evidence points at the characters the reader sees."""
from __future__ import annotations

import unicodedata

# Look-alike letters from other scripts that map to ASCII letters.
CONFUSABLES = str.maketrans({
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "ԁ": "d", "ɡ": "g", "һ": "h", "ӏ": "l", "ո": "n", "ν": "v", "ο": "o", "α": "a", "ε": "e", "ι": "i",
    "κ": "k", "τ": "t", "ρ": "p", "μ": "m", "Α": "a", "Β": "b", "Ε": "e", "Κ": "k", "Μ": "m", "Ο": "o",
    "Ρ": "p", "Τ": "t", "Χ": "x",
})
# Digits and symbols that stand in for letters ("m1racle", "$ale"). They are matched
# by the term patterns rather than rewritten, so "ACME!" still ends at a word boundary.
LEET = {"a": "4@", "e": "3", "i": "1!|", "l": "1|", "o": "0", "s": "5$", "t": "7", "b": "8", "g": "9"}
INVISIBLE = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}


def _fold(char: str) -> str:
    if char in INVISIBLE:
        return ""
    decomposed = unicodedata.normalize("NFKD", char)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.casefold().translate(CONFUSABLES)


def normalise_with_map(text: str) -> tuple[str, list[int]]:
    """(normalised text, index in `text` of every normalised character)."""
    pieces, positions = [], []
    for index, char in enumerate(text):
        folded = _fold(char)
        pieces.append(folded)
        positions.extend([index] * len(folded))
    return "".join(pieces), positions


def normalise(text: str) -> str:
    return normalise_with_map(text)[0]
