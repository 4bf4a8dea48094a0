"""``chinwag-cli``: the terminal client, for people at a prompt and for scripts."""
