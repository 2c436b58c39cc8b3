"""Offline noun picking for WebShop's type score, in place of spaCy's part-of-speech tagger.

Upstream's type score keeps the tokens of a product name that spaCy tags ``NOUN`` or ``PROPN``
(``en_core_web_lg``, a 500 MB download). Product names are title-cased keyword lists ("Rustic
Wooden Chandelier, 1-Light Farmhouse ..."), on which the tagger marks almost every content word a
noun or proper noun; what it leaves out is mostly closed-class words (determiners, prepositions,
conjunctions, pronouns, auxiliaries), numbers, punctuation and a small set of frequent adjectives,
verbs and adverbs. :func:`noun_tokens` keeps that rule: a token is a noun unless it is a number,
punctuation or a closed-class word; lowercase tokens are also not nouns when they are frequent
modifiers or end in -ly/-ed/-ing (capitalised, the tagger calls such words PROPN).

Tokenisation follows spaCy's English rules where they matter for these names: whitespace split,
leading/trailing punctuation split off, infix hyphens and slashes between letters or digits split
("3-Ounce" -> "3", "-", "Ounce"), and the clitics "'s"/"'" split from the word.
"""

from __future__ import annotations

import re

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
_INFIX = re.compile(r"(?<=[A-Za-z0-9])([-/|+&])(?=[A-Za-z0-9])|(?<=[A-Za-z]),(?=[A-Za-z])")
_UNIT = re.compile(
    r"^(\d+(?:\.\d+)?)(oz|g|mg|kg|lb|lbs|mm|cm|m|km|ml|l|ft|in|gb|tb|mb|w|v|mah)$", re.IGNORECASE
)
_CLITIC = re.compile(r"^(.+?)('s|'|’s|’)$", re.IGNORECASE)
_EDGE_PUNCT = "\"'()[]{}<>,;:!?.*|•–—-/\\~#%^=_`“”‘’"


def tokenize(text: str) -> list[str]:
    """Split ``text`` into tokens roughly as spaCy's English tokenizer does for product names."""
    tokens: list[str] = []
    for chunk in _INFIX.sub(lambda m: f" {m.group(0)} ", text).split():
        prefix: list[str] = []
        suffix: list[str] = []
        while chunk and chunk[0] in _EDGE_PUNCT:
            prefix.append(chunk[0])
            chunk = chunk[1:]
        while chunk and chunk[-1] in _EDGE_PUNCT and not _CLITIC.match(chunk):
            suffix.insert(0, chunk[-1])
            chunk = chunk[:-1]
        tokens += prefix
        unit = _UNIT.match(chunk)
        if unit:
            tokens += [unit.group(1), unit.group(2)]
        elif chunk:
            m = _CLITIC.match(chunk)
            tokens += [m.group(1), m.group(2)] if m else [chunk]
        tokens += suffix
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
