"""The tf.data input pipeline that every family trains through.

Images stay uint8 until the model's first layer. Labels become one-hot float32,
because every family is compiled with categorical cross-entropy. TensorFlow is
imported inside the functions (see ml/__init__.py).
"""

from __future__ import annotations

import numpy as np

# Pixels of reflected border added before the random 32x32 crop, as in the standard
# CIFAR-10 augmentation: shifts of up to 4 pixels each way.
CROP_PADDING = 4


def _augment_image(image, seed: int):
    """Crop a random image-sized window out of ``image`` with a reflected border, and maybe mirror it."""
    import tensorflow as tf

    padded = tf.pad(image, [[CROP_PADDING, CROP_PADDING], [CROP_PADDING, CROP_PADDING], [0, 0]], mode="REFLECT")
    cropped = tf.image.random_crop(padded, tf.shape(image), seed=seed)
    return tf.image.random_flip_left_right(cropped, seed=seed + 1)


def make_dataset(x: np.ndarray, y: np.ndarray, *, num_classes: int, batch_size: int, shuffle: bool = False,
                 seed: int = 0, augment: bool = False):
    """Return a ``tf.data.Dataset`` of ``(images, one_hot_labels)`` batches.

    ``shuffle`` reshuffles every epoch from ``seed``. ``augment`` applies a random crop
    after a reflected ``CROP_PADDING`` border and a random horizontal flip to each
    image; it needs uint8 images of shape H x W x C. ``x`` may also be precomputed
    features, without augmentation. The last batch may be smaller than
    ``batch_size``, so that an epoch has ``ceil(len(x) / batch_size)`` steps.
    """
    import tensorflow as tf

    labels = np.asarray(y, dtype=np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((x, labels))
    if shuffle:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    if augment:
        dataset = dataset.map(lambda image, target: (_augment_image(image, seed), target),
                              num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size)
    dataset = dataset.map(lambda images, targets: (images, tf.one_hot(targets, num_classes, dtype=tf.float32)),
                          num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
