"""Rasa's TensorFlow models (DIET, the ResponseSelector) loaded without tracing a training step.

Rasa 3.6 ``RasaModel.load`` builds a model's variables by fitting it on one example before it
restores the trained weights. With the model compiled for graph mode, that one step traces Keras'
whole training function: about 20 s of a 44 s model load on 2 cores, in every process that loads a
model (the Rasa server at start, after a restart and on each hot swap; the gate's held-out
evaluation; ``python -m training predict``). Here the one step runs eagerly: the same code creates
the same variables (and the optimizer's), the trained weights then replace them as before, and the
model is switched back to its configured mode before the prediction that traces the inference
function. Predictions are unchanged (the test compares every held-out parse with Rasa's own load);
the load took 23 s instead of 44 (7 Dec 2026). Fine-tuning (``finetune_mode``) keeps Rasa's load.

``install()`` runs where a model is loaded: the live NLG (``rasa_project/nlg.py``, created before
the server loads its model), the held-out evaluation and ``predict`` (``training/``). Idempotent.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.data_generator import RasaBatchDataGenerator
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

_RASA_LOAD = "_tanyavaksin_rasa_load"


def load_for_prediction(
    cls: type[RasaModel],
    model_file_name: str,
    model_data_example: RasaModelData,
    predict_data_example: RasaModelData | None = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """``RasaModel.load`` with the variable-building step run eagerly (Rasa's own load otherwise)."""
    if finetune_mode:
        rasa_load = getattr(RasaModel, _RASA_LOAD)
        return rasa_load.__func__(cls, model_file_name, model_data_example, predict_data_example,
                                  finetune_mode, *args, **kwargs)  # fmt: skip
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)), run_eagerly=True)
    model.fit(RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
    model.load_weights(model_file_name)
    model.run_eagerly = config.get(RUN_EAGERLY)  # what Rasa compiles with: graph mode unless configured
    if predict_data_example:
        model.run_inference(predict_data_example)  # traces the inference function, as Rasa does
    return model


def install() -> None:
    if getattr(RasaModel, _RASA_LOAD, None) is not None:
        return
    setattr(RasaModel, _RASA_LOAD, RasaModel.__dict__["load"])
    RasaModel.load = classmethod(load_for_prediction)
