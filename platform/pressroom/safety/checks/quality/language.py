"""Copy in a language other than the brief's: common function words per language (no model,
no dependency); when either side is unclear, the check says nothing."""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

from pressroom.safety.checks.base import Evidence, Subject
from pressroom.safety.checks.quality.base import QualityCheck, brief_text, setting

_COMMON = {
    "en": "the and of to is are with for your you our this that it be will from at by we all more new get now have can was "
          "they which what about just when their been has would there out how discover today every",
    "de": "der die das und ist mit für ein eine nicht sie wir ihr auf zu den dem des auch jetzt noch sich von im bei oder aus "
          "ihre unsere dein deine sind wird werden einen einem können über nur entdecken neue neuen heute jeder jede ganz kostenlos gibt wie",
    "fr": "le la les et est avec pour un une des du vous nous votre vos notre nos dans sur pas que qui ce cette au aux plus "
          "sont mais très été être leur découvrez nouveau nouvelle tous toutes merci chaque peut avez êtes ici chez",
    "es": "el la los las y es con para un una del que por su sus tu tus nuestro nuestra nuestros más este esta ahora al "
          "como pero son muy también desde hasta está están aquí todos todas nueva nuevo hola gracias descubre cada hoy mejor tiene puede usted nuestras",
    "it": "il lo gli le e è con per un una del della che di da nel nella sono tuo tua nostro nostra più questo questa ora "
          "anche ma molto alla delle scopri nuovo nuova tutti tutte oggi grazie ogni perché sempre siamo hai",
    "pt": "o os as e é com para um uma do da dos das que em no na seu sua nosso nossa mais este esta agora você são não "
          "muito também pelo pela descubra novo nova hoje obrigado nossos seus aqui está",
    "nl": "de het een en is met voor van ons onze jouw je uw niet op in te nu meer zijn ook maar dit deze wij bij wordt "
          "naar ontdek nieuwe vandaag elke kunt jullie heel",
}
_LANGUAGES_OF: dict[str, set[str]] = {}
for _language, _words in _COMMON.items():
    for _word in _words.split():
        _LANGUAGES_OF.setdefault(_word, set()).add(_language)
# Common in several languages although listed under one: they tell nothing apart.
_SHARED = {"de", "en", "a", "e", "o", "in", "un", "die", "so", "con", "no", "se", "te", "me", "di", "da", "do"}
# Only words that belong to one language tell languages apart ("la", "de", "in" do not).
MARKERS = {word: next(iter(langs)) for word, langs in _LANGUAGES_OF.items() if len(langs) == 1 and word not in _SHARED}
NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
         "nl": "Dutch", "latin": "a Latin-script language"}
ALIASES = {name.casefold(): code for code, name in NAMES.items()}
WORD = re.compile(r"[^\W\d_]+")
MIN_WORDS, MIN_MARKERS = 5, 3


def _script_family(script: str) -> str:
    """Japanese mixes kana and kanji; Korean hangul and hanja: one family each."""
    return "CJK" if script in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC") else script


def script_of(text: str) -> str:
    """'latin', or the main other script of the letters (e.g. 'CYRILLIC', 'CJK'), or ''."""
    scripts: Counter = Counter()
    for char in text:
        if char.isalpha():
            name = unicodedata.name(char, "")
            scripts["latin" if name.startswith("LATIN") else _script_family(name.split(" ")[0])] += 1
    if not scripts:
        return ""
    script, count = scripts.most_common(1)[0]
    return script if count >= 0.6 * sum(scripts.values()) else ""


def detect(text: str) -> str:
    """A language code when the evidence is clear, else ''."""
    script = script_of(text)
    if script and script != "latin":
        return script
    words = [w.casefold() for w in WORD.findall(text)]
    if len(words) < MIN_WORDS:
        return ""
    hits = Counter(MARKERS[w] for w in words if w in MARKERS)
    ranked = hits.most_common(2) + [("", 0), ("", 0)]
    (best, count), (_, runner_up) = ranked[0], ranked[1]
    clear = count >= MIN_MARKERS and count >= 2 * runner_up and count >= 0.12 * len(words)
    return best if clear else ""


def brief_language(brief, fallback: str) -> str:
    if isinstance(brief, dict) and isinstance(brief.get("language"), str):
        named = brief["language"].strip().casefold()
        return ALIASES.get(named, named[:2])
    return detect(brief_text(brief)) or fallback


class LanguageCheck(QualityCheck):
    name = "quality_language"

    def thresholds(self, policy) -> dict:
        return {"default_language": setting(policy, "quality_language", "en")}

    def find(self, subject: Subject, policy) -> list[Evidence]:
        expected = brief_language(subject.brief, self.thresholds(policy)["default_language"])
        found = detect(subject.text)
        if not expected or not found or found == expected:
            return []
        wanted, got = NAMES.get(expected, expected), NAMES.get(found, found.title() + " script")
        excerpt = subject.text.strip()[:60]
        start = subject.text.find(excerpt)
        return [Evidence(start, start + len(excerpt), excerpt, f"written in {got}, not {wanted}", category="language")]
