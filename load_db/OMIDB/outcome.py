"""OMI-DB episode outcomes: an NBSS episode's outcome from its opinions, and a client's worst
outcome (mapping.yaml maps outcomes to master conditions)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Episode outcomes, from the least to the most severe: a client's outcome is her worst.
OUTCOMES = ("normal", "benign", "malignant", "interval cancer")
INTERVAL_CANCER_EPISODE = "CI"
SECTIONS = ("SCREENING", "ASSESSMENT", "BIOPSYWIDE", "BIOPSYFINE", "CLINICAL", "SURGERY")
# Only tissue says malignant or benign: the opinions of biopsies and surgery decide the outcome.
PATHOLOGY_SECTIONS = ("BIOPSYWIDE", "BIOPSYFINE", "SURGERY")
MALIGNANT, BENIGN = "OM", "OB"


def _sides(episode: dict[str, Any], section: str) -> dict[str, Any]:
    sides = episode.get(section)
    return sides if isinstance(sides, dict) else {}


def episode_outcome(episode: dict[str, Any]) -> str:
    """The outcome of one NBSS episode: interval cancer for a CI episode, else malignant or
    benign from the biopsy and surgery opinions, else normal."""
    if episode.get("EpisodeType") == INTERVAL_CANCER_EPISODE:
        return "interval cancer"
    opinions = {side.get("Opinion") for section in PATHOLOGY_SECTIONS
                for side in _sides(episode, section).values() if isinstance(side, dict)}
    if MALIGNANT in opinions:
        return "malignant"
    return "benign" if BENIGN in opinions else "normal"


def worst_outcome(outcomes: Iterable[str]) -> str | None:
    """The most severe of some outcomes (interval cancer > malignant > benign > normal)."""
    return max(outcomes, key=OUTCOMES.index, default=None)


def opinions_by_side(episode: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The raw NBSS opinion codes of an episode: {side: {section: code}}."""
    found: dict[str, dict[str, str]] = {}
    for section in SECTIONS:
        for side, values in sorted(_sides(episode, section).items()):
            if isinstance(values, dict) and values.get("Opinion"):
                found.setdefault(side, {})[section] = str(values["Opinion"])
    return found
