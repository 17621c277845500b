"""Art. 62 para. 1 on the evaluation set written apart from the lexicon (``bench/data/art62``):
the recall of each category and the share of benign credit-record sentences refused.

``make bench`` reports the same figures next to a plain keyword baseline, with throughput."""

from __future__ import annotations

import pytest

from bench.art62 import benign_sentences, prohibited_sentences, recall, refused, screened
from redaction.prohibited import ProhibitedCategory

SCRIPTS = {"zh-Hans", "zh-Hant", "en"}


def test_the_evaluation_set_is_large_and_in_three_scripts() -> None:
    prohibited, benign = prohibited_sentences(), benign_sentences()
    assert len(prohibited) >= 300 and len(benign) >= 300
    assert {s.script for s in prohibited} == {s.script for s in benign} == SCRIPTS
    assert {s.label for s in prohibited} == set(ProhibitedCategory)
    assert {s.label for s in benign} == {"benign"}


@pytest.mark.parametrize("category", list(ProhibitedCategory))
def test_recall_of_each_category_is_at_least_99_percent(category: ProhibitedCategory) -> None:
    missed = [
        s.text
        for s in prohibited_sentences()
        if s.label == category and category not in screened(s.text)
    ]
    assert recall(screened)[category] >= 99.0, missed


def test_at_most_one_percent_of_benign_sentences_is_refused() -> None:
    refusals = refused(screened)
    assert 100 * len(refusals) / len(benign_sentences()) <= 1.0, [s.text for s in refusals]
