"""Identity matching for records transfers (pure): does a student of another district match what a
registrar typed (state ID, name, birth date)?

Only an exact match (same state ID, same name, same birth date, after normalising case, accents,
spaces and punctuation) is taken automatically. Near matches go to a person: one typo or a swapped
pair of digits in the state ID, a misspelt or swapped name, a birth date with day and month swapped
or one digit wrong, and a matching name and birth date under another state ID. A name alone never
matches, and neither does a state ID whose name and birth date both disagree.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import IntEnum

#: Most single-character edits a name may differ by and still be a near match (first + last).
NAME_EDITS = 2


class Agreement(IntEnum):
    """How one part of the identity compares: the same, nearly the same, or different."""

    DIFFERENT = 0
    NEAR = 1
    SAME = 2


@dataclass(frozen=True, slots=True)
class Identity:
    """What identifies a student for matching; ``state_id`` may be empty."""

    state_id: str
    first_name: str
    last_name: str
    birth_date: date


@dataclass(frozen=True, slots=True)
class Comparison:
    """How a candidate compares with a request, part by part, with plain-word reasons."""

    state_id: Agreement
    name: Agreement
    birth_date: Agreement
    reasons: tuple[str, ...]

    @property
    def exact(self) -> bool:
        return self.state_id is self.name is self.birth_date is Agreement.SAME

    @property
    def score(self) -> int:
        """0-6: two points for each part that is the same, one for each nearly the same."""
        return int(self.state_id) + int(self.name) + int(self.birth_date)

    @property
    def near(self) -> bool:
        """Worth a person's look, but never taken without one."""
        if self.exact:
            return False
        if self.state_id is Agreement.SAME:
            return self.score >= 4
        if self.state_id is Agreement.NEAR:
            return self.name is not Agreement.DIFFERENT and self.birth_date is not Agreement.DIFFERENT
        return self.name is Agreement.SAME and self.birth_date is Agreement.SAME


def normalize_id(text: str) -> str:
    """A state ID without spaces, dashes and dots."""
    return "".join(ch for ch in text if ch.isalnum()).upper()


def normalize_name(text: str) -> str:
    """Lower case letters only: accents, spaces, hyphens and apostrophes removed (``O'Brien-Núñez``
    -> ``obriennunez``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if ch.isalpha() and not unicodedata.combining(ch))


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment distance (insertions, deletions, substitutions and swaps of
    adjacent characters), capped at ``limit``."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) >= limit:
        return limit
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, previous2[j - 2] + 1)
            current[j] = best
        if min(current) >= limit:
            return limit
        previous2, previous = previous, current
    return min(previous[-1], limit)


def _compare_state_id(asked: str, known: str) -> tuple[Agreement, str]:
    a, k = normalize_id(asked), normalize_id(known)
    if not a or not k:
        return Agreement.DIFFERENT, "state ID: not given" if not a else "state ID: none on file"
    if a == k:
        return Agreement.SAME, "state ID: same"
    if edit_distance(a, k, 2) == 1:
        return Agreement.NEAR, "state ID: one digit differs or two are swapped"
    return Agreement.DIFFERENT, "state ID: different"


def _name_parts(text: str) -> set[str]:
    return {normalize_name(p) for p in text.replace("-", " ").split()} - {""}


def _compare_name(asked: Identity, known: Identity) -> tuple[Agreement, str]:
    af, al = normalize_name(asked.first_name), normalize_name(asked.last_name)
    kf, kl = normalize_name(known.first_name), normalize_name(known.last_name)
    if af == kf and al == kl:
        return Agreement.SAME, "name: same"
    if af == kl and al == kf:
        return Agreement.NEAR, "name: first and last name swapped"
    edits = edit_distance(af, kf, NAME_EDITS + 1) + edit_distance(al, kl, NAME_EDITS + 1)
    if edits <= NAME_EDITS and (af[:1] == kf[:1] or al[:1] == kl[:1]):
        return Agreement.NEAR, f"name: {edits} letter{'s' if edits > 1 else ''} differ"
    if af == kf and al and kl and (al in _name_parts(known.last_name) or kl in _name_parts(asked.last_name)):
        return Agreement.NEAR, "name: last name is part of a compound last name"
    return Agreement.DIFFERENT, "name: different"


def _digits(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _compare_birth_date(asked: date, known: date) -> tuple[Agreement, str]:
    if asked == known:
        return Agreement.SAME, "birth date: same"
    if asked.year == known.year and asked.month == known.day and asked.day == known.month:
        return Agreement.NEAR, "birth date: day and month swapped"
    a, k = _digits(asked), _digits(known)
    if sum(x != y for x, y in zip(a, k, strict=True)) == 1:
        return Agreement.NEAR, "birth date: one digit differs"
    if edit_distance(a, k, 2) == 1:
        return Agreement.NEAR, "birth date: two digits swapped"
    return Agreement.DIFFERENT, "birth date: different"


def compare(asked: Identity, known: Identity) -> Comparison:
    """Compare what a registrar typed with a student on file."""
    sid, sid_why = _compare_state_id(asked.state_id, known.state_id)
    name, name_why = _compare_name(asked, known)
    born, born_why = _compare_birth_date(asked.birth_date, known.birth_date)
    return Comparison(sid, name, born, (sid_why, name_why, born_why))


def state_id_variants(state_id: str) -> Iterator[str]:
    """Every state ID one edit away (one digit changed, dropped or added, or two adjacent digits
    swapped), to look near matches up by index."""
    text = normalize_id(state_id)
    if not text:
        return
    alphabet = "0123456789"
    seen = {text}
    for i in range(len(text) + 1):
        for ch in alphabet:
            for candidate in (text[:i] + ch + text[i + 1 :], text[:i] + ch + text[i:]):
                if candidate not in seen:
                    seen.add(candidate)
                    yield candidate
        if i < len(text):
            dropped = text[:i] + text[i + 1 :]
            if dropped and dropped not in seen:
                seen.add(dropped)
                yield dropped
        if i + 1 < len(text):
            swapped = text[:i] + text[i + 1] + text[i] + text[i + 2 :]
            if swapped not in seen:
                seen.add(swapped)
                yield swapped


@dataclass(frozen=True, slots=True)
class Found:
    """What matching found among candidates (keys are the caller's candidate keys)."""

    exact: tuple[int, ...]
    near: tuple[tuple[int, Comparison], ...]


def classify(asked: Identity, candidates: Iterable[tuple[int, Identity]]) -> Found:
    """Exact matches, and near matches best first (ties by key)."""
    exact: list[int] = []
    near: list[tuple[int, Comparison]] = []
    for key, known in candidates:
        result = compare(asked, known)
        if result.exact:
            exact.append(key)
        elif result.near:
            near.append((key, result))
    near.sort(key=lambda item: (-item[1].score, item[0]))
    return Found(tuple(sorted(exact)), tuple(near))
