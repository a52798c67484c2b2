"""Geocoding estate addresses with geopy: providers, a persistent cache, batches with progress."""
