"""Which precision a library's model runs at: the user's explicit choice, else the precision check's verdict.

No faster-than-fp32 precision is used on a promise. Before a library's first batch with a model on a device
(and whenever the model's weights, torch or the CPU change) `PrecisionChoice.ensure_checked` measures each
candidate against fp32 on up to 32 of the library's own photos (core.embedding.precision_check) and stores
the verdict in the library; later runs reuse it. Until a verdict exists the model runs fp32.

Vectors remember the precision they were made at. Those made at a precision the verdict failed are
re-embedded (new photos first); their old vectors serve searches until replaced. Vectors from before
precisions were recorded (NULL) are kept only where int8, the lowest precision Lookalike ever defaulted to,
passes the check.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.embedding import device as devices
from core.embedding.calibration import SAMPLE_SIZE, generated_images
from core.embedding.fingerprint import fingerprint, machine_parts, weights_digest, weights_signature
from core.embedding.precision_check import check_precisions
from core.embedding.precision_verdict import PrecisionVerdict
from core.embedding.registry import resolve_model
from core.errors import DecodeError
from core.library.records import PrecisionStatus
from core.tasks.progress import TaskHandle

if TYPE_CHECKING:
    from PIL.Image import Image

    from core.embedding.embedder import Embedder
    from core.embedding.model_slot import ModelSlot
    from core.store.database import Store


@dataclass(frozen=True)
class PrecisionPlan:
    """How the model runs on this machine now, and why."""

    device: str
    precision: str  # what the model runs at
    requested: str | None  # the user's explicit choice, or None: the check's
    requested_by: str  # "--precision", "settings", "LOOKALIKE_PRECISION" or "" (not requested)
    fingerprint: str
    verdict: PrecisionVerdict | None

    @property
    def keep_float(self) -> tuple[str, ...]:
        return self.verdict.keep_float if self.verdict and self.precision == "int8-mixed" else ()

    @property
    def warning(self) -> str | None:
        """Said when the user's explicit precision failed the check (it is used anyway, as asked)."""
        if not self.requested or self.requested == "fp32" or self.verdict is None:
            return None
        found = self.verdict.check(self.requested)
        if found is None or found.passed:
            return None
        return (
            f"precision {self.requested} (set by {self.requested_by}) failed this model's precision check "
            f"({found.reason}); it is used as asked, but look-alikes and text results may differ from full "
            f"precision. Set precision to auto to use {self.verdict.chosen}, which passed."
        )

    def stale(self, present: Iterable[str | None]) -> frozenset[str | None]:
        """Of the precisions the library's vectors were made at, those to re-embed."""
        accepted = {"fp32", self.precision}
        if self.verdict is not None:
            accepted |= {c.precision for c in self.verdict.checks if c.passed}
        return frozenset(p for p in present if (p is None and "int8" not in accepted) or (p and p not in accepted))


class PrecisionChoice:
    """Plans, checks and remembers precisions for one library's active model. Plans may be made on any
    thread (reads go through the store); the check runs on the indexing thread only."""

    def __init__(self, store: Store, readonly: bool, explicit: str | None, explicit_by: str, device: str) -> None:
        self._store = store
        self._readonly = readonly
        self._digests: dict[str, tuple[Any, str]] = {}  # local folder -> (signature, digest)
        self._plan: PrecisionPlan | None = None  # the active model's, once made in this process
        self.configure(explicit, explicit_by, device)

    def configure(self, explicit: str | None, explicit_by: str, device: str) -> None:
        """The user's explicit precision (None: the check chooses), where it was set, and the device setting.
        Forgets the plan: the next use makes a new one."""
        self._explicit, self._explicit_by, self._device = explicit, explicit_by, device
        self._plan = None

    def forget(self) -> None:
        """The active model changed: its plan is made again on next use."""
        self._plan = None

    def plan(self, source: str, active: bool = True) -> PrecisionPlan:
        """The precision to run `source` at on this device (imports torch); kept when it is the active model's."""
        from core.embedding.device import pick_device

        device = pick_device(self._device)
        requested, requested_by = requested_precision(self._explicit, self._explicit_by)
        machine = machine_parts(device)
        resolved = resolve_model(source)
        weights = resolved.revision or self._local_digest(resolved.source)
        key = fingerprint(resolved.key, weights, machine)
        stored = self._store.precision_verdict(key)
        verdict = PrecisionVerdict.from_json(stored) if stored else None
        plan = PrecisionPlan(device, requested or (verdict.chosen if verdict else "fp32"), requested, requested_by,
                             key, verdict)
        if active:
            self._plan = plan
        return plan

    def settle(
        self, source: str, model_key: str, slot: ModelSlot, sample_paths: Callable[[], list[str]], handle: TaskHandle
    ) -> frozenset[str | None]:
        """Before indexing: run the check when one is due (a step of the job; searches go on meanwhile) on a
        sample spread over `sample_paths()` (the library's readable photos, in a stable order), drop a loaded
        model whose precision the verdict changes, and return the precisions whose vectors to re-embed."""
        present = self._store.vector_precisions(model_key)
        plan = self._plan
        if plan is None:
            if set(present) <= {"fp32"} and not self._store.counts(model_key).pending:
                return frozenset()  # nothing to embed or to judge: no need to import torch for a plan
            plan = self.plan(source)
        # Counting pending photos costs a scan of the library: only when a check could be due (once).
        if self.needs_check(plan, present) and (present or self._store.counts(model_key).pending):
            plan = self._plan = self.check(plan, source, sample_paths(), handle)
        loaded = slot.loaded_embedder()
        if loaded is not None and (loaded.precision, loaded.keep_float) != (plan.precision, plan.keep_float):
            slot.unload()  # the next use loads it at the checked precision
        return plan.stale(present)

    def status(self, model_key: str) -> PrecisionStatus:
        """The precision and its evidence without importing torch: this process's plan once made, else the
        newest verdict stored for the model."""
        requested, requested_by = requested_precision(self._explicit, self._explicit_by)
        plan = self._plan
        verdict = plan.verdict if plan else self.newest_verdict(model_key)
        if plan is None and verdict is not None:
            plan = PrecisionPlan(verdict.device, requested or verdict.chosen, requested, requested_by,
                                 verdict.fingerprint, verdict)
        if plan is None:
            return PrecisionStatus(requested, requested, requested_by, None, None, 0)
        counts = self._store.vector_precisions(model_key)
        stale = plan.stale(counts)
        return PrecisionStatus(plan.precision, plan.requested, plan.requested_by, verdict, plan.warning,
                               sum(n for p, n in counts.items() if p in stale))

    def needs_check(self, plan: PrecisionPlan, present: Iterable[str | None]) -> bool:
        """A check is due when none is stored and something depends on one: a faster precision to choose or
        to warn about, or vectors of a precision other than fp32 to judge."""
        if plan.verdict is not None or self._readonly or not devices.check_candidates(plan.device):
            return False
        return plan.requested != "fp32" or any(p != "fp32" for p in present)

    def check(
        self, plan: PrecisionPlan, source: str, sample_paths: list[str], handle: TaskHandle | None = None
    ) -> PrecisionPlan:
        """Run the check for `plan`'s model and machine on up to SAMPLE_SIZE of `sample_paths`; store it."""
        from core.embedding.embedder import load_embedder

        started = time.time()
        own: list[Image] = []

        def make(precision: str, keep_float: Iterable[str]) -> Embedder:
            return load_embedder(source, plan.device, precision, keep_float=tuple(keep_float))

        def sample(image_size: int) -> list[Image]:
            own.extend(_decode_sample(sample_paths, image_size))
            return own + generated_images(SAMPLE_SIZE - len(own))

        checks, chosen = check_precisions(make, sample, devices.check_candidates(plan.device), handle)
        verdict = PrecisionVerdict(
            plan.fingerprint, resolve_model(source).key, plan.device, chosen, tuple(checks), len(own),
            SAMPLE_SIZE, round(time.time() - started, 1), time.time(), machine_parts(plan.device),
        )
        self._store.save_precision_verdict(plan.fingerprint, verdict.model, verdict.to_json(), verdict.checked_at)
        return PrecisionPlan(
            plan.device, plan.requested or chosen, plan.requested, plan.requested_by, plan.fingerprint, verdict
        )

    def newest_verdict(self, model_key: str) -> PrecisionVerdict | None:
        """The latest verdict stored for a model, for status without importing torch."""
        stored = self._store.precision_verdicts(model_key)
        return PrecisionVerdict.from_json(stored[0]) if stored else None

    def _local_digest(self, folder: str) -> str:
        """A local folder's weights digest, kept (in memory and in the library) until a weights file changes."""
        signature = weights_signature(folder)  # type: ignore[arg-type]
        known = self._digests.get(folder)
        if known is None:
            saved = self._store.get_meta(f"weights_digest:{folder}")
            known = tuple(json.loads(saved)) if saved else None  # type: ignore[assignment]
        if known is not None and known[0] == signature:
            return known[1]
        digest = weights_digest(folder)  # type: ignore[arg-type]
        self._digests[folder] = (signature, digest)
        if not self._readonly:
            self._store.set_meta(f"weights_digest:{folder}", json.dumps([signature, digest]))
        return digest


def requested_precision(explicit: str | None, explicit_by: str) -> tuple[str | None, str]:
    """The user's explicit precision and where it was set (`explicit_by`: an argument or the settings), else
    LOOKALIKE_PRECISION's; (None, "") when the check is to choose."""
    if explicit:
        return devices.requested_precision(explicit), explicit_by
    env = os.environ.get(devices.PRECISION_ENV)
    return (devices.requested_precision(env), devices.PRECISION_ENV) if env else (None, "")


def _decode_sample(paths: list[str], image_size: int) -> list[Image]:
    """Up to SAMPLE_SIZE of `paths`, spread evenly over them; photos that cannot be read are passed over."""
    from core.imaging.decode import open_image

    step = max(1, len(paths) // SAMPLE_SIZE)
    images: list[Image] = []
    for path in paths[::step]:
        if len(images) >= SAMPLE_SIZE:
            break
        try:
            images.append(open_image(path, target=image_size))
        except (DecodeError, OSError):
            continue
    return images
