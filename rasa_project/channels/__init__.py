"""The WhatsApp Cloud API channel (see README.md here).

``credentials.yml`` names the channel class ``rasa_project.channels.whatsapp.WhatsAppInput``.
Nothing is imported here, so stdlib-only modules (``privacy``, ``signature``) can be used
outside the Rasa environment (the integration tests do).
"""
