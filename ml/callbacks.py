"""Keras callback that reports epochs, saves checkpoints and polls for cancellation.

This module imports Keras at import time, so only ``ml.training`` imports it, inside
``train_mlp``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import keras

logger = logging.getLogger(__name__)


class EpochCallback(keras.callbacks.Callback):
    """Turn each finished epoch into a history entry, and stop training when cancelled.

    ``record_epoch(epoch_index, logs, seconds)`` runs at the end of every complete
    epoch. ``should_cancel()`` runs at the end of a batch, at most once every
    ``cancel_check_seconds``. When it returns True, training stops after that batch
    and the partial epoch is not recorded.
    """

    def __init__(self, *, record_epoch: Callable[[int, dict, float], None],
                 should_cancel: Callable[[], bool] | None, cancel_check_seconds: float) -> None:
        super().__init__()
        self._record_epoch = record_epoch
        self._should_cancel = should_cancel
        self._cancel_check_seconds = cancel_check_seconds
        self._last_cancel_check = -math.inf
        self._epoch_started = 0.0
        self.cancelled = False

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._epoch_started = time.perf_counter()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._should_cancel is None or self.cancelled:
            return
        now = time.monotonic()
        if now - self._last_cancel_check < self._cancel_check_seconds:
            return
        self._last_cancel_check = now
        if self._should_cancel():
            logger.info("Cancellation requested, stopping after batch %d", batch + 1)
            self.cancelled = True
            self.model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.cancelled:
            return
        self._record_epoch(epoch, dict(logs or {}), time.perf_counter() - self._epoch_started)
