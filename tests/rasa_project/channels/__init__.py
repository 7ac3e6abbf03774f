"""Unit tests of the WhatsApp Cloud API channel (Rasa env)."""
