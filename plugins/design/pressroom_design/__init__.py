"""Pressroom design plugin."""
