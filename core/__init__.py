"""Pure code shared by every deployable: standard library only, runs on Python 3.10 and 3.11."""
