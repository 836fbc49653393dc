"""Load the config files the settings point to: models-config.json and rating-config.json."""

from __future__ import annotations

from dataclasses import dataclass

from app.config.models_config import ModelsConfig, load_models_config
from app.config.rating_config import RatingConfig, load_rating_config
from app.config.settings import Settings


@dataclass(frozen=True)
class NodeConfig:
    """Everything configuration gives the node at start-up."""

    settings: Settings
    models: ModelsConfig
    rating: RatingConfig


def load_node_config(settings: Settings) -> NodeConfig:
    """Read models-config.json (writing MODELS_CONFIG_CONTENT first if the file is missing) and
    rating-config.json (PROVIDER_ALLOW_LIST merged in), at paths resolved by ``settings.resolve``."""
    models = load_models_config(
        settings.resolve(settings.models_config_path), settings.models_config_content, settings.openai_base_url
    )
    rating = load_rating_config(settings.resolve(settings.rating_config_path), settings.provider_allow_list)
    return NodeConfig(settings, models, rating)
