"""A complete plugin used by the SDK tests (after NetBox's dummy_plugin)."""
