"""The process supervisor behind ``make run``: starts every server of the assistant, restarts one
that dies (with backoff), reports each on a health endpoint, and stops them all on Ctrl-C/SIGTERM.

``python -m supervisor``; the environment it passes on is prepared in supervisor/environment.py.
"""
