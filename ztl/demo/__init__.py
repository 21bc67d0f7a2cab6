"""The demo city (Prato) and synthetic registry files at any scale.

prato.py holds the city as data (zones, gates, categories, street register); generator.py writes
synthetic registers in the registry formats, streamed; loader.py puts a small demo city into the
database through the same import the municipality uses.
"""
