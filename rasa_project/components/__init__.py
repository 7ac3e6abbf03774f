"""In-process NLU components loaded by the Rasa server from ``config.yml``."""
