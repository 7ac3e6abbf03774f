"""Test helpers both services' tests share."""
