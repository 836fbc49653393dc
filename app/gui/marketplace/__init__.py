"""The marketplace: models, their bids ranked by the Morpheus rating with local measurements, open-session dialog."""
