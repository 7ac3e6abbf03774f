"""The default port of each server, written once: each server's own settings or CLI use its port,
and the supervisor and the clients that call a server on this machine use the same numbers."""

RASA_PORT = 5005
ACTION_PORT = 5055
REGISTRY_PORT = 8077
REVIEW_PORT = 8078
SUPERVISOR_PORT = 8079
