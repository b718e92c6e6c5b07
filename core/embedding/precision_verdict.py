"""The precision check's findings: one `CandidateCheck` per precision measured, and the `PrecisionVerdict`
that chose among them. Plain records with a JSON form, stored in the library and shown by `status`."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class CandidateCheck:
    precision: str
    min_cosine: float  # the worst image's cosine to its fp32 vector
    mean_cosine: float
    neighbour_overlap: float  # mean share of each image's top-10 neighbours that fp32 also has
    text_agreement: float | None  # mean share of each query's top images that fp32 also ranks there
    images_per_s: float
    passed: bool
    reason: str = ""  # why it failed, in words
    keep_float: tuple[str, ...] = ()  # int8-mixed: the layer groups kept float

    def to_json(self) -> dict[str, object]:
        out = asdict(self)
        out["keep_float"] = list(self.keep_float)
        return out

    @classmethod
    def from_json(cls, data: dict[str, object]) -> CandidateCheck:
        fields = dict(data)
        fields["keep_float"] = tuple(fields.get("keep_float") or ())  # type: ignore[arg-type]
        return cls(**fields)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PrecisionVerdict:
    fingerprint: str  # what it is valid for: model and revision, device, torch, CPU features
    model: str
    device: str
    chosen: str  # the fastest precision that passed, or fp32
    checks: tuple[CandidateCheck, ...]  # fp32 first (its speed is the baseline), then each candidate
    own_photos: int  # how many of the sample were the user's photos (the rest were generated)
    sample: int
    seconds: float  # what the check cost
    checked_at: float
    machine: dict[str, object] = field(default_factory=dict)  # the fingerprint's parts, for people

    def check(self, precision: str) -> CandidateCheck | None:
        return next((c for c in self.checks if c.precision == precision), None)

    def passed(self, precision: str) -> bool:
        """True for fp32 (the reference) and for every candidate that met the thresholds."""
        found = self.check(precision)
        return precision == "fp32" or (found is not None and found.passed)

    @property
    def keep_float(self) -> tuple[str, ...]:
        found = self.check("int8-mixed")
        return found.keep_float if found is not None else ()

    def speedup(self, precision: str) -> float | None:
        base, found = self.check("fp32"), self.check(precision)
        if base is None or found is None or base.images_per_s <= 0:
            return None
        return found.images_per_s / base.images_per_s

    def describe(self, precision: str | None = None) -> str:
        """In words, for people: "int8: checked on 32 of your photos, min similarity 0.9981 to full precision,
        2.6x the speed of full precision", then what became of the other candidates."""
        precision = precision or self.chosen
        found = self.check(precision)
        others = [c for c in self.checks if c.precision not in ("fp32", precision)]
        if precision == "fp32" or found is None:
            words = "fp32: full precision" if precision == "fp32" else f"{precision}: not checked here"
            if not others:
                return f"{words} (no faster precision to check on this device)"
            words += f"; {', '.join(c.precision for c in others)} checked on {self._photos()}"
        else:
            speed = self.speedup(precision)
            faster = f", {speed:.1f}x the speed of full precision" if speed else ""
            failed = "" if found.passed else f", FAILED: {found.reason}"
            words = (f"{precision}: checked on {self._photos()}, min similarity {_floor4(found.min_cosine)} to "
                     f"full precision{faster}{failed}")
        return "; ".join([words, *(self._outcome(c) for c in others)])

    def _outcome(self, check: CandidateCheck) -> str:
        if not check.passed:
            return f"{check.precision} failed ({check.reason})"
        speed = self.speedup(check.precision)
        return f"{check.precision} passed" + (f" at {speed:.1f}x" if speed else "")

    def _photos(self) -> str:
        if self.own_photos == self.sample:
            return f"{self.sample} of your photos"
        if self.own_photos == 0:
            return f"{self.sample} generated images (the library had no photos yet)"
        return f"{self.own_photos} of your photos and {self.sample - self.own_photos} generated images"

    def to_json(self) -> str:
        data = asdict(self)
        data["checks"] = [c.to_json() for c in self.checks]
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> PrecisionVerdict:
        data = json.loads(text)
        data["checks"] = tuple(CandidateCheck.from_json(c) for c in data["checks"])
        return cls(**data)


def _floor4(value: float) -> str:
    """Four decimals, rounded down: 0.99996 reads 0.9999, never an overstated 1.0000."""
    return f"{math.floor(value * 10_000) / 10_000:.4f}"
