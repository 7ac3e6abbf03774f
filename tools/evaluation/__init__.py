"""Held-out evaluation of trained models (runs in the Rasa environment)."""
