"""Renderers: results objects in, text out (table, JSON, CSV, Markdown). Nothing here computes."""
