"""Widgets and delegates: presentation only, bound to the models and the controller."""
