"""Vaccination registry: who got which dose, and who is due next, behind an identity check.

Run it with ``python -m services.registry``; see this package's README for the commands.
"""
