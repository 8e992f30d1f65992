"""revops: audit CRM and billing exports and compute revenue metrics from them.

The public API is imported lazily so that `revops --help` does not pay for polars.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "load_config", "load_dataset"]

if TYPE_CHECKING:
    from revops_cli.config import load_config
    from revops_cli.load.dataset import load_dataset


def __getattr__(name: str) -> Any:
    if name == "load_config":
        from revops_cli.config import load_config

        return load_config
    if name == "load_dataset":
        from revops_cli.load.dataset import load_dataset

        return load_dataset
    raise AttributeError(f"module 'revops_cli' has no attribute {name!r}")
