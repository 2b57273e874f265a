"""Builds the default models from packages on disk, with no network."""
