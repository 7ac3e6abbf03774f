"""The process supervisor behind ``make run``: starts every server of the assistant, restarts one
that dies (with backoff), reports each on a health endpoint, and stops them all on Ctrl-C/SIGTERM.

``scripts/run_assistant.sh`` prepares the environment and secrets, then runs ``python -m supervisor``.
"""
