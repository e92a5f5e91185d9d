"""三务公开: the public board of party, residential and financial affairs, published on the
community's transparency log (docs/disclosure.md)."""
