"""The offline noun heuristic that replaces spaCy in the type score."""

from __future__ import annotations

from proxmo_bench.envs.webshop.nouns import is_noun, noun_tokens, tokenize


def test_tokenizer_splits_like_spacy_on_product_names() -> None:
    assert tokenize("3-Piece Dining Set, Farmhouse") == [
        "3",
        "-",
        "Piece",
        "Dining",
        "Set",
        ",",
        "Farmhouse",
    ]
    assert tokenize("Viracy Women's Tunic (M-3XL)") == [
        "Viracy",
        "Women",
        "'s",
        "Tunic",
        "(",
        "M-3XL",  # spaCy splits a hyphen only before a letter
        ")",
    ]
    assert tokenize("sponge,Very Cereal 1.41oz") == ["sponge", ",", "Very", "Cereal", "1.41", "oz"]


def test_closed_class_numbers_and_punctuation_are_not_nouns() -> None:
    for token in ("the", "with", "for", "and", "3", "2.0", ",", "-", "'s", "One"):
        assert not is_noun(token), token


def test_capitalised_modifiers_count_as_proper_nouns_lowercase_ones_do_not() -> None:
    assert is_noun("Natural") and not is_noun("natural")
    assert not is_noun("damaged") and not is_noun("quickly") and not is_noun("hanging")
    assert is_noun("shampoo") and is_noun("Headphones")


def test_noun_tokens_of_a_title() -> None:
    assert noun_tokens("Bright Citrus Deodorant by Earth Mama, 3-Ounce") == [
        "bright",
        "citrus",
        "deodorant",
        "earth",
        "mama",
        "ounce",
    ]


def test_tokenizer_follows_spacy_infix_prefix_and_unit_rules() -> None:
    # each expected list is what spaCy 3.8 (en_core_web_sm) gives for the same text
    assert tokenize("F-13 3-Ounce 324830-161 3XL-4XL 3-in-1") == (
        ["F-13", "3", "-", "Ounce", "324830", "-", "161", "3XL-4XL", "3", "-", "in-1"]
    )
    assert tokenize("Black/White 20/30 3/4 Inch") == ["Black", "/", "White", "20/30", "3/4", "Inch"]
    assert tokenize("$120 12oz 5ml 10in 4GB 100%") == (
        ["$", "120", "12", "oz", "5ml", "10", "in", "4", "GB", "100", "%"]
    )
    assert tokenize("D.O.N. No. Tea.Coffee #2") == [
        "D.O.N.",
        "No",
        ".",
        "Tea",
        ".",
        "Coffee",
        "#",
        "2",
    ]
