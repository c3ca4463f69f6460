"""The brand catalogue: one record per car brand, every name people type mapped to its id."""
