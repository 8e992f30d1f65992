"""revops: audit CRM and billing exports and compute revenue metrics from them."""

from __future__ import annotations

__version__ = "0.1.0"
