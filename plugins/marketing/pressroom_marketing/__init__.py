"""Pressroom marketing plugin."""
