"""Semantic FAQ search: a sentence-embedding second stage for messages Rasa is not sure about.

``encoder`` loads the embedding model (a local folder or a model name: it is a setting);
``faq_index`` builds, saves, loads and searches the index of FAQ training examples.
Nothing here loads a model at import time.
"""
