"""The e5 sentence encoder on ONNX Runtime, shared by both sides of the assistant.

Rasa's e5 featurizer (``rasa_project/components/e5_featurizer.py``, Python 3.10) and the action
server's second stage (``actions/semantic``, Python 3.11) embed with the same graph, exported once
by ``make train``'s provisioning (``actions/semantic/provision.py``) into the models folder. Needs
numpy, onnxruntime and tokenizers, which both environments pin; nothing here imports torch.
"""
