"""Configuration: settings from CLI/env/.env/settings file, models-config.json and rating-config.json."""
