"""The Art. 62 para. 1 screen on its evaluation set: recall per category, benign sentences
refused, and throughput in MB/s of text.

The evaluation set (``bench/data/art62/``) was written apart from the lexicon, as credit-record
writers and careless clerks write: 390 sentences carrying prohibited information (each labelled
with its category; simplified and traditional Chinese, English, obfuscations with spaces,
full-width letters and invisible characters) and 373 benign credit-record sentences, many
mentioning medical or religious words in a benign sense.

Baseline, the same run and the same lexicon: every term found by Python ``re`` (one alternation
of the escaped terms, longest first) in the case-folded text, no normalization, no benign
contexts - what a plain keyword screen does.

The lexicon's benign contexts were tuned after reading what it refused of that set, which
makes it a development set. The held-out sentences (``heldout_*.tsv``: 62 prohibited, 50
benign), written after the tuning and never used for it, are reported in the details.

Throughput is measured on both over every evaluation sentence, one call per sentence as the
ingestion check screens a field, in CPU seconds of the one thread that runs it (the machine is
shared: wall time would measure the neighbours), the median of five measurements; the details
add record-sized texts (eight sentences per call).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bench import Context, Measurement, benchmark
from redaction.lexicon import BENIGN, lexicon_files
from redaction.prohibited import ProhibitedCategory, prohibited_categories

DATA = Path(__file__).resolve().parent / "data" / "art62"
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
RECALL_TARGET = 99.0
REFUSAL_TARGET = 1.0
THROUGHPUT_TARGET = 5.0  # MB/s


@dataclass(frozen=True)
class Sentence:
    label: str  # a ProhibitedCategory value, or "benign"
    script: str
    text: str


def _sentences(name: str) -> tuple[Sentence, ...]:
    rows = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, script, text = line.split("\t")
            rows.append(Sentence(label, script, _ESCAPE.sub(lambda m: chr(int(m[1], 16)), text)))
    return tuple(rows)


@cache
def prohibited_sentences(held_out: bool = False) -> tuple[Sentence, ...]:
    return _sentences("heldout_prohibited.tsv" if held_out else "prohibited.tsv")


@cache
def benign_sentences(held_out: bool = False) -> tuple[Sentence, ...]:
    return _sentences("heldout_benign.tsv" if held_out else "benign.tsv")


Detector = Callable[[str], Iterable[str]]


def screened(text: str) -> tuple[str, ...]:
    """The gateway's screen: the categories ``text`` mentions (a StrEnum is its value)."""
    return prohibited_categories(text)


@cache
def _baseline_pattern() -> re.Pattern[str]:
    groups = []
    for lexicon in lexicon_files():
        if lexicon.category != BENIGN:
            terms = sorted({term.casefold() for term, _ in lexicon.entries}, key=len, reverse=True)
            alternatives = "|".join(map(re.escape, terms))
            groups.append(f"(?P<{lexicon.category}>{alternatives})")
    return re.compile("|".join(groups))


def keyword_baseline(text: str) -> tuple[str, ...]:
    """The baseline: lexicon terms by ``re`` in the case-folded text (see the docstring)."""
    return tuple(
        {
            match.lastgroup: None
            for match in _baseline_pattern().finditer(text.casefold())
            if match.lastgroup
        }
    )


def recall(detector: Detector, held_out: bool = False) -> dict[str, float]:
    """Per category, the percentage of its prohibited sentences in which it is found."""
    found: dict[str, list[bool]] = {category.value: [] for category in ProhibitedCategory}
    for sentence in prohibited_sentences(held_out):
        found[sentence.label].append(sentence.label in detector(sentence.text))
    return {category: 100 * sum(hits) / len(hits) for category, hits in found.items()}


def refused(detector: Detector, held_out: bool = False) -> list[Sentence]:
    """The benign sentences in which the detector finds something."""
    sentences = benign_sentences(held_out)
    return [sentence for sentence in sentences if tuple(detector(sentence.text))]


def refusal_rate(detector: Detector, held_out: bool = False) -> float:
    return 100 * len(refused(detector, held_out)) / len(benign_sentences(held_out))


def evaluation_texts(per_call: int = 1) -> list[str]:
    """Every evaluation sentence, ``per_call`` of them joined into one text."""
    texts = [sentence.text for sentence in (*prohibited_sentences(), *benign_sentences())]
    return ["".join(texts[at : at + per_call]) for at in range(0, len(texts), per_call)]


def megabytes_per_second(detector: Detector, rounds: int, per_call: int = 1) -> float:
    """The median of five measurements, each ``rounds`` passes over the evaluation texts."""
    texts = evaluation_texts(per_call)
    size = sum(len(text.encode("utf-8")) for text in texts) * rounds
    figures = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(rounds):
            for text in texts:
                detector(text)
        figures.append(size / 1e6 / (time.process_time() - started))
    return statistics.median(figures)


@benchmark(
    "art62.recall",
    unit="% (lowest category)",
    target=RECALL_TARGET,
    higher_is_better=True,
    baseline="re keywords, no normalization",
)
def run_recall(_context: Context) -> Measurement:
    ours, theirs = recall(screened), recall(keyword_baseline)
    details = {
        "per_category": ours,
        "baseline_per_category": theirs,
        "sentences": len(prohibited_sentences()),
        "held_out_per_category": recall(screened, held_out=True),
        "held_out_sentences": len(prohibited_sentences(held_out=True)),
    }
    return Measurement(min(ours.values()), min(theirs.values()), details)


@benchmark(
    "art62.benign_refused",
    unit="% of benign",
    target=REFUSAL_TARGET,
    higher_is_better=False,
    baseline="re keywords, no normalization",
)
def run_refusals(_context: Context) -> Measurement:
    details = {
        "sentences": len(benign_sentences()),
        "refused": len(refused(screened)),
        "held_out_sentences": len(benign_sentences(held_out=True)),
        "held_out_refused": len(refused(screened, held_out=True)),
    }
    return Measurement(refusal_rate(screened), refusal_rate(keyword_baseline), details)


@benchmark(
    "art62.throughput",
    unit="MB/s",
    target=THROUGHPUT_TARGET,
    higher_is_better=True,
    baseline="re keywords, no normalization",
)
def run_throughput(context: Context) -> Measurement:
    rounds = 1 if context.quick else 8
    screened("warm up")
    keyword_baseline("warm up")
    texts = evaluation_texts()
    details = {
        "rounds": rounds,
        "calls_per_measurement": rounds * len(texts),
        "mean_bytes_per_call": sum(len(text.encode("utf-8")) for text in texts) / len(texts),
        "records_of_8_sentences_mb_s": megabytes_per_second(screened, rounds, per_call=8),
        "measurements": "median of 5, each `rounds` passes; the baseline 1 pass each",
    }
    return Measurement(
        megabytes_per_second(screened, rounds),
        megabytes_per_second(keyword_baseline, 1),
        details,
    )
