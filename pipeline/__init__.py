"""dcnet: an ML data pipeline for data-center network configuration datasets."""

__version__ = "0.1.0"
