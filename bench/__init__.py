"""Load generator for Chinwag and, side by side, ngircd: ``python -m bench --help``."""
