"""rating-config.json: upstream files load, weights checked with a tolerance, allowlist merged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.config.rating_config import DEFAULT_WEIGHTS, RatingWeights, load_rating_config, parse_rating_config
from app.errors import ConfigError

UPSTREAM = Path("/work/shared/reference/upstream/rating-config.json.example")
A, B = "0x" + "aa" * 20, "0x" + "BB" * 20


def _doc(weights: dict[str, object], allow: list[str] | None = None) -> dict[str, object]:
    return {"algorithm": "default", "providerAllowlist": allow or [], "params": {"weights": weights}}


@pytest.mark.skipif(not UPSTREAM.exists(), reason="upstream reference files not present")
def test_upstream_example_loads_with_default_weights() -> None:
    config = load_rating_config(UPSTREAM)
    assert config.weights == DEFAULT_WEIGHTS
    assert config.provider_allowlist == frozenset()


def test_missing_file_gives_built_in_defaults(tmp_path: Path) -> None:
    config = load_rating_config(tmp_path / "rating-config.json")
    assert config.weights == RatingWeights(tps=0.24, ttft=0.08, duration=0.24, success=0.32, stake=0.12)
    assert config.source == "built-in defaults"


def test_weights_that_do_not_add_up_exactly_in_binary_are_accepted() -> None:
    weights = {"tps": 0.1, "ttft": 0.2, "duration": 0.3, "success": 0.3, "stake": 0.1}
    assert sum(weights.values()) != 1.0  # upstream's float == would refuse this file
    assert parse_rating_config(_doc(weights), "f").weights.ttft == 0.2


def test_weights_not_summing_to_one_are_rejected_with_the_sum() -> None:
    with pytest.raises(ConfigError, match=r"f: params.weights must sum to 1, but they sum to 1.1"):
        parse_rating_config(_doc({"tps": 0.34, "ttft": 0.08, "duration": 0.24, "success": 0.32, "stake": 0.12}),
                            "f")


def test_missing_weight_counts_as_zero_like_go() -> None:
    config = parse_rating_config(_doc({"tps": 0.5, "success": 0.5}), "f")
    assert (config.weights.tps, config.weights.stake) == (0.5, 0.0)


@pytest.mark.parametrize(("doc", "message"), [
    ({"algorithm": "fancy", "params": {}}, "algorithm = 'fancy' is not supported"),
    ({"algorithm": "default"}, '"params" is required'),
    (_doc({"tps": "0.24"}), r"params.weights.tps = '0.24' must be a number"),
    (_doc({"tps": -0.5, "success": 1.5}), r"params.weights.tps = -0.5 must be a number between 0 and 1"),
    (_doc({"tps": 1}, allow=["0x12"]), r"providerAllowlist\[0\] = '0x12' must be an address"),
])
def test_invalid_documents_are_rejected_clearly(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_rating_config(doc, "f")


def test_provider_allow_list_env_is_merged_into_the_file_allowlist(tmp_path: Path) -> None:
    path = tmp_path / "rating-config.json"
    path.write_text(json.dumps(_doc({"tps": 1}, allow=[A])))
    assert load_rating_config(path, [B]).provider_allowlist == {A, B.lower()}
    assert load_rating_config(tmp_path / "absent.json", [B]).provider_allowlist == {B.lower()}
