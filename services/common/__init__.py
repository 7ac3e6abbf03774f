"""Building blocks both services (registry and review) share, so they are written once."""
