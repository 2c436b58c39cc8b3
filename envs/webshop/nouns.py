"""Noun picking for WebShop's type score: an offline heuristic, or spaCy as upstream.

Upstream's type score keeps the tokens of a product name that spaCy tags ``NOUN`` or ``PROPN``
(``en_core_web_sm`` on ``master``). :func:`spacy_noun_tokens` does exactly that (the
``[webshop-spacy]`` extra); :func:`noun_tokens` is the default, with no model download.

Product names are title-cased keyword lists ("Rustic Wooden Chandelier, 1-Light Farmhouse ..."),
on which the tagger marks almost every content word a noun or proper noun; what it leaves out is
mostly closed-class words (determiners, prepositions, conjunctions, pronouns, auxiliaries),
numbers, punctuation and a small set of frequent adjectives, verbs and adverbs. The heuristic
keeps that rule: a token is a noun unless it is a number, punctuation or a closed-class word;
lowercase tokens are also not nouns when they are frequent modifiers or end in -ly/-ed/-ing
(capitalised, the tagger mostly calls such words PROPN).

Tokenisation follows spaCy's English rules (see :func:`tokenize`), so the two taggers see the same
tokens. Measured against spaCy 3.8 ``en_core_web_sm`` on the 42 product names of the shared sample
(not used for tuning; the rules were written from spaCy's tokenizer rules and checked on 528
other names): the same noun list for 16 of 42 names (14 before the tokenizer followed spaCy's
infix and unit rules), noun-token Jaccard 0.91 (0.88), and the same title-only type level on
97.2% (96.7%) of the 1,722 ordered name pairs. What is left is context: spaCy tags "Running",
"Sided" or "Free" a verb or adjective in some names and a noun in others.
"""

from __future__ import annotations

import functools
import re
from typing import Any

# Closed-class words and the frequent adjectives / verbs / adverbs of product names, lowercased.
_CLOSED_CLASS = """
a an the this that these those each every either neither some any no all both half another such
what which whose whatever my your his her its our their mine yours ours theirs i me you he him she
it we us they them myself yourself itself ourselves themselves one ones
and or but nor so yet plus either
about above across after against along amid among around as at before behind below beneath beside
besides between beyond by despite down during except for from in inside into like near of off on
onto out outside over past per since than through throughout till to toward towards under
underneath unlike until up upon via with within without w/ w/o vs versus
am is are was were be been being do does did done have has had having can could may might must
shall should will would need not n't 's '
how when where why whether if then there here also just only very too more most less least
again ever never always often still even really quite
"""

_FREQUENT_MODIFIERS = """
new best great good high low large small big little long short wide narrow tall light dark heavy
soft hard easy quick fast slow hot cold warm cool dry wet clean fresh free full empty open closed
natural organic pure real true original classic modern vintage rustic antique elegant sexy cute
casual formal comfortable comfy adjustable portable durable waterproof wireless compatible
professional premium perfect special super ultra extra mini multi double single triple
decorative reusable disposable safe sensitive daily regular strong thin thick flat round square
black white red blue green yellow pink purple orange brown grey gray silver golden gold beige navy
women's men's womens mens unisex kids baby girls boys adult
includes include including made make makes use used using fits fit fitting designed keep keeps
perfect suitable ideal available featuring features great
"""

CLOSED_CLASS: frozenset[str] = frozenset(_CLOSED_CLASS.split())
#: Modifiers that are not nouns in lowercase; capitalised in a title, the tagger calls them PROPN.
MODIFIERS: frozenset[str] = frozenset(_FREQUENT_MODIFIERS.split())

_NUMBER = re.compile(r"^[+-]?(\d+([.,]\d+)*|\d*\.\d+)(st|nd|rd|th|s)?$")
_NUMBER_WORDS = frozenset(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "hundred",
        "thousand",
    ]
)
_WORD_CHAR = re.compile(r"[a-z]", re.IGNORECASE)
# spaCy's English infixes that occur in product names: a hyphen (or dash, tilde) after a letter or
# digit and before a letter ("3-Ounce", not "F-13" or "3XL-4XL"); + - * ^ between digits
# ("324830-161"); : < > = / after a letter or digit and before a letter ("Black/White", not
# "3/4"); a comma between letters; a period between a lowercase and an uppercase letter.
_INFIX = re.compile(
    r"(?<=[0-9])[+\-*^](?=[0-9-])"
    r"|(?<=[A-Za-z0-9])(?:---|--|-|–|—|~)(?=[A-Za-z])"
    r"|(?<=[A-Za-z0-9])[:<>=/](?=[A-Za-z])"
    r"|(?<=[A-Za-z]),(?=[A-Za-z])"
    r"|(?<=[a-z])\.(?=[A-Z])"
)
# spaCy splits these units (case-sensitive) off a number they follow: "12oz" -> "12", "oz", but
# "5ml", "3lbs" and "12V" stay whole.
_UNITS = "km m dm cm mm ha nm yd in ft kg g mg t lb oz mph mb MB kb KB gb GB tb TB T G M K"
_UNIT = re.compile(
    r"^([0-9][0-9.,]*)(" + "|".join(sorted(_UNITS.split(), key=len, reverse=True)) + ")$"
)
_CLITIC = re.compile(r"^(.+?)('s|'|’s|’)$", re.IGNORECASE)
_PREFIX_CHARS = "\"'()[]{}<>,;:!?*|•–—-/\\~#%^=_`“”‘’$£€¥"
_SUFFIX_CHARS = "\"'()[]{}<>,;:!?*|•–—-/\\~#%^=_`“”‘’+"
# A trailing period splits off unless the token is an abbreviation with periods inside ("D.O.N.").
_ABBREVIATION = re.compile(r"^([A-Za-z]\.)+$")


def _split_affixes(chunk: str) -> list[str]:
    prefix: list[str] = []
    suffix: list[str] = []
    while len(chunk) > 1 and chunk[0] in _PREFIX_CHARS:
        prefix.append(chunk[0])
        chunk = chunk[1:]
    while len(chunk) > 1:
        if chunk[-1] == "." and not _ABBREVIATION.match(chunk):
            suffix.insert(0, ".")
            chunk = chunk[:-1]
        elif chunk[-1] in _SUFFIX_CHARS and not _CLITIC.match(chunk):
            suffix.insert(0, chunk[-1])
            chunk = chunk[:-1]
        else:
            break
    middle: list[str] = []
    unit = _UNIT.match(chunk)
    if unit:
        middle = [unit.group(1), unit.group(2)]
    else:
        m = _CLITIC.match(chunk)
        middle = [m.group(1), m.group(2)] if m and len(chunk) > len(m.group(2)) else [chunk]
    return prefix + [t for t in middle if t] + suffix


def tokenize(text: str) -> list[str]:
    """Split ``text`` into tokens as spaCy's English tokenizer does for product names.

    Whitespace split; per chunk, leading punctuation and currency signs and trailing punctuation
    split off, then spaCy's infix rules (see ``_INFIX``), units after numbers, and the clitics
    "'s"/"'" split from the word.
    """
    tokens: list[str] = []
    for chunk in text.split():
        for piece in _split_affixes(chunk):
            start = 0
            for m in _INFIX.finditer(piece):
                if m.start() > start:
                    tokens += _split_affixes(piece[start : m.start()])
                tokens.append(m.group(0))
                start = m.end()
            tokens += _split_affixes(piece[start:]) if start else [piece]
    return tokens


def is_noun(token: str) -> bool:
    """Whether the heuristic tags ``token`` as a noun (spaCy NOUN/PROPN)."""
    low = token.lower()
    if not _WORD_CHAR.search(low):
        return False  # punctuation, numbers and symbols
    if _NUMBER.match(low) or low in _NUMBER_WORDS or low in CLOSED_CLASS:
        return False
    if token[0].isupper():
        return True
    # Lowercase: frequent modifiers, adverbs in -ly and participles in -ed/-ing are not nouns.
    return low not in MODIFIERS and not low.endswith(("ly", "ed", "ing"))


def noun_tokens(text: str) -> list[str]:
    """The lowercased tokens of ``text`` that count as nouns, in order (duplicates kept)."""
    return [t.lower() for t in tokenize(text) if is_noun(t)]


#: The spaCy pipeline upstream's ``goal.py`` loads (``master``; its first commit used ``_lg``).
SPACY_MODEL = "en_core_web_sm"
#: Part-of-speech tags upstream keeps (``PNOUN`` is no spaCy tag; upstream lists it anyway).
SPACY_NOUN_TAGS = frozenset({"PNOUN", "NOUN", "PROPN"})
_SPACY_EXTRA_HINT = (
    "install the extra: pip install 'proxmo-bench[webshop-spacy]' (spaCy and en_core_web_sm), "
    "or use the default nouns='heuristic'"
)


@functools.lru_cache(maxsize=4)
def load_spacy(model: str = SPACY_MODEL) -> Any:
    """spaCy's ``model`` pipeline, loaded once; ImportError naming the extra when missing."""
    try:
        import spacy
    except ImportError as exc:
        raise ImportError(
            f"nouns='spacy' needs spaCy, which is not installed: {_SPACY_EXTRA_HINT}"
        ) from exc
    try:
        return spacy.load(model)
    except OSError as exc:
        raise ImportError(
            f"nouns='spacy' needs the spaCy model {model!r}, which is not installed: "
            f"{_SPACY_EXTRA_HINT}"
        ) from exc


@functools.lru_cache(maxsize=65536)
def _spacy_nouns(text: str, model: str) -> tuple[str, ...]:
    return tuple(t.text.lower() for t in load_spacy(model)(text) if t.pos_ in SPACY_NOUN_TAGS)


def spacy_noun_tokens(text: str, model: str = SPACY_MODEL) -> list[str]:
    """Upstream's nouns of ``text``: lowercased spaCy tokens tagged NOUN or PROPN, in order.

    Raises:
        ImportError: spaCy or the model is not installed (the message names the
            ``[webshop-spacy]`` extra).
    """
    return list(_spacy_nouns(text, model))
