"""Pressroom recommendation plugin."""
