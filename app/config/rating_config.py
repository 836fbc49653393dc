"""``rating-config.json``: the bid-rating algorithm, its weights and the provider allowlist."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.errors import ConfigError

log = logging.getLogger(__name__)

# Upstream demands an exact float sum of 1; every such file sums to within this of 1, and so do hand-edited
# files whose decimals do not add up exactly in binary (0.1 + 0.2 + ...).
WEIGHT_SUM_TOLERANCE = 1e-9
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
WEIGHT_NAMES = ("tps", "ttft", "duration", "success", "stake")


@dataclass(frozen=True, slots=True)
class RatingWeights:
    """How much each rating term counts; they sum to 1."""

    tps: float = 0.24
    ttft: float = 0.08
    duration: float = 0.24
    success: float = 0.32
    stake: float = 0.12


DEFAULT_WEIGHTS = RatingWeights()


@dataclass(frozen=True, slots=True)
class RatingConfig:
    """The loaded rating config; an empty allowlist means every provider is allowed."""

    algorithm: str = "default"
    weights: RatingWeights = DEFAULT_WEIGHTS
    provider_allowlist: frozenset[str] = field(default_factory=frozenset)
    source: str = "built-in defaults"


def _address_list(values: Iterable[Any], where: str) -> set[str]:
    out: set[str] = set()
    for i, value in enumerate(values):
        if not isinstance(value, str) or not _ADDRESS.match(value.strip()):
            raise ConfigError(f"{where}[{i}] = {value!r} must be an address: 0x followed by 40 hex characters.")
        out.add(value.strip().lower())
    return out


def parse_weights(raw: Any, where: str) -> RatingWeights:
    """Weights from ``params.weights``: finite, ≥ 0, summing to 1; a missing one is 0 (as Go decodes it)."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be an object with the keys {', '.join(WEIGHT_NAMES)}.")
    values: dict[str, float] = {}
    for name in WEIGHT_NAMES:
        value = raw.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ConfigError(f"{where}.{name} = {value!r} must be a number between 0 and 1.")
        values[name] = float(value)
    unknown = sorted(set(raw) - set(WEIGHT_NAMES))
    if unknown:
        # Go's decoder ignores unknown keys; a warning catches typos without refusing the file.
        log.warning("%s: ignoring unknown weights %s (known: %s)", where, unknown, ", ".join(WEIGHT_NAMES))
    total = math.fsum(values.values())
    if abs(total - 1.0) > WEIGHT_SUM_TOLERANCE:
        raise ConfigError(f"{where} must sum to 1, but they sum to {total:g}: adjust the weights.")
    return RatingWeights(**values)


def parse_rating_config(data: Any, source: str, extra_allowlist: Iterable[str] = ()) -> RatingConfig:
    """Validate a decoded rating-config.json document; ``source`` names it in errors."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: the top level must be a JSON object.")
    algorithm = data.get("algorithm")
    if algorithm != "default":
        raise ConfigError(f'{source}: algorithm = {algorithm!r} is not supported: use "default".')
    params = data.get("params")
    if not isinstance(params, Mapping):
        raise ConfigError(f'{source}: "params" is required: {{"weights": {{"tps": 0.24, ...}}}}.')
    weights = parse_weights(params.get("weights"), f"{source}: params.weights")
    raw_list = data.get("providerAllowlist", [])
    if not isinstance(raw_list, list):
        raise ConfigError(f"{source}: providerAllowlist must be a list of provider addresses.")
    allowlist = _address_list(raw_list, f"{source}: providerAllowlist")
    allowlist |= _address_list(extra_allowlist, "PROVIDER_ALLOW_LIST")
    return RatingConfig(str(algorithm), weights, frozenset(allowlist), source)


def load_rating_config(path: Path | None, extra_allowlist: Iterable[str] = ()) -> RatingConfig:
    """Load ``path`` (missing file or None → built-in defaults) and merge PROVIDER_ALLOW_LIST into the allowlist."""
    if path is None or not path.exists():
        if path is not None:
            log.info("%s not found: using the built-in rating weights", path)
        extra = frozenset(_address_list(extra_allowlist, "PROVIDER_ALLOW_LIST"))
        return RatingConfig(provider_allowlist=extra)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}.") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror}).") from e
    return parse_rating_config(data, str(path), extra_allowlist)
