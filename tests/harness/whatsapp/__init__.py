"""A local WhatsApp for trying the channel: a fake Graph API and a command that plays a user."""
