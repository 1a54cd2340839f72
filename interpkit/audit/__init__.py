"""Audit (placeholder)."""
