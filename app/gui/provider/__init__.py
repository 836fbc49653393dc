"""The provider pane: register provider/model/bid, edit models-config.json, and the provider dashboard."""
