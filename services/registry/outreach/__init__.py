"""Outreach: campaigns of WhatsApp template messages to recipients, from the registry (issue #13).

A campaign picks an audience (appointment in N days, dose overdue, certificate ready), plans one
notice per recipient under a key the database keeps unique, and workers send them through the
Cloud API at the throughput tier, honouring opt-outs and quiet hours. See README.md beside this file.
"""
