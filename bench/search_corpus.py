"""Realistic chat text for `bench search`: Zipf-distributed words (common English, then a long tail), links, names.

Deterministic for a seed, so the queries drawn from it (`queries`) find what a person would find.
"""

from __future__ import annotations

import random

COMMON = """the be to of and a in that have i it for not on with he as you do at this but his by from they we say her
she or an will my one all would there their what so up out if about who get which go me when make can like time no
just him know take people into year your good some could them see other than then now look only come its over think
also back after use two how our work first well way even new want because any these give day most us is are was were
been has had did said got let lol ok yeah yes thanks please sure maybe tonight tomorrow game server lan party pizza
map round team win lost play voice channel link file photo meeting bug fix build release test merge branch deploy
coffee lunch dinner weekend friday monday router cable switch laptop keyboard mouse screen driver update patch
""".split()
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "vo", "zi", "pe", "sha", "dor", "len", "bra", "gri", "tok", "vel",
             "mar", "qui", "sol", "fen", "ath", "orn", "ely", "usk"]
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"]
CHANNELS = ["general", "random", "games", "dev"]


class Corpus:
    """A vocabulary and a way to write messages in it."""

    def __init__(self, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        rare: set[str] = set()
        while len(rare) < 20_000:
            rare.add("".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 4))))
        self.rare = sorted(rare)

    def word(self) -> str:
        rng = self.rng
        if rng.random() < 0.7:
            return COMMON[min(int(rng.paretovariate(1.1)) - 1, len(COMMON) - 1)]
        return self.rare[min(int(rng.paretovariate(0.9)) - 1, len(self.rare) - 1)]

    def message(self) -> str:
        """One chat message: 2 to 14 words, sometimes a link or a question."""
        rng = self.rng
        text = " ".join(self.word() for _ in range(rng.randint(2, 14))).capitalize()
        roll = rng.random()
        if roll < 0.05:
            text += f" https://example.org/{self.word()}"
        elif roll < 0.15:
            text += "?"
        return text


def queries(corpus: Corpus, samples: list[str], n: int = 100, seed: int = 11) -> list[str]:
    """`n` queries of the kinds people type: words, two words, phrases, prefixes, filters, dates."""
    rng = random.Random(seed)
    out: list[str] = []
    kinds = ["word", "rare", "two", "phrase", "prefix", "from", "in", "link", "pinned", "date"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        words = rng.choice(samples).lower().rstrip("?").split()
        words = [w for w in words if w.isalpha()] or ["party"]
        w = rng.choice(words)
        if kind == "word":
            out.append(w)
        elif kind == "rare":
            out.append(rng.choice(corpus.rare[:2000]))
        elif kind == "two":
            out.append(f"{w} {rng.choice(words)}")
        elif kind == "phrase":
            at = rng.randrange(len(words))
            out.append('"' + " ".join(words[at:at + 2]) + '"')
        elif kind == "prefix":
            out.append(w[: max(3, len(w) - 2)] + "*")
        elif kind == "from":
            out.append(f"from:{rng.choice(NAMES[:4])} {w}")
        elif kind == "in":
            out.append(f"in:#{rng.choice(CHANNELS)} {w}")
        elif kind == "link":
            out.append("has:link" if i % 20 < 10 else f"has:link {w}")
        elif kind == "pinned":
            out.append("is:pinned")
        else:
            out.append(f"{w} after:2020-01-01 before:2100-01-01")
    return out
