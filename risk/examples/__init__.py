"""Example maps shipped with the risk package (package data)."""
