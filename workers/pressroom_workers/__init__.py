"""Pressroom's Celery workers: thin tasks, the model runtime, batching.

Start a worker with `celery -A pressroom_workers.app worker -Q gpu.text,gpu.image,cpu`.
"""
