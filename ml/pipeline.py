"""The tf.data input pipeline that every family trains through.

Images stay uint8 until the model's first layer. Labels become one-hot float32,
because every family is compiled with categorical cross-entropy. TensorFlow is
imported inside the functions (see ml/__init__.py).
"""

from __future__ import annotations

import numpy as np

# Pixels of reflected border added before the random crop, as in the standard CIFAR-10
# augmentation: shifts of up to 4 pixels each way.
CROP_PADDING = 4


def _augment_batch(images, *, padding: int, seed: int):
    """Crop a random image-sized window out of each image with a reflected border, and maybe mirror it.

    Works on a whole batch at once, each image with its own shift and flip: per-image
    calls would spend more of the CPU on scheduling than on the pixels.
    """
    import tensorflow as tf

    count = tf.shape(images)[0]
    height, width = images.shape[1], images.shape[2]
    padded = tf.pad(images, [[0, 0], [padding, padding], [padding, padding], [0, 0]], mode="REFLECT")
    top = tf.random.uniform([count], 0, 2 * padding + 1, dtype=tf.int32, seed=seed)
    left = tf.random.uniform([count], 0, 2 * padding + 1, dtype=tf.int32, seed=seed + 1)
    rows = top[:, None] + tf.range(height)[None, :]
    columns = left[:, None] + tf.range(width)[None, :]
    cropped = tf.gather(tf.gather(padded, rows, axis=1, batch_dims=1), columns, axis=2, batch_dims=1)
    mirror = tf.random.uniform([count], seed=seed + 2) < 0.5
    return tf.where(mirror[:, None, None, None], tf.reverse(cropped, axis=[2]), cropped)


def make_dataset(x: np.ndarray, y: np.ndarray, *, num_classes: int, batch_size: int, shuffle: bool = False,
                 seed: int = 0, augment: bool = False, crop_padding: int = CROP_PADDING):
    """Return a ``tf.data.Dataset`` of ``(images, one_hot_labels)`` batches.

    ``shuffle`` reshuffles every epoch from ``seed``. ``augment`` applies a random crop
    after a reflected ``crop_padding`` border and a random horizontal flip to each
    image, and needs uint8 images of shape N x H x W x C. ``x`` may also be precomputed
    features, without augmentation. The last batch may be smaller than
    ``batch_size``, so that an epoch has ``ceil(len(x) / batch_size)`` steps.
    """
    import tensorflow as tf

    labels = np.asarray(y, dtype=np.int32)
    dataset = tf.data.Dataset.from_tensor_slices((x, labels))
    if shuffle:
        dataset = dataset.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augment:
        dataset = dataset.map(lambda images, targets: (_augment_batch(images, padding=crop_padding, seed=seed),
                                                       targets),
                              num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.map(lambda images, targets: (images, tf.one_hot(targets, num_classes, dtype=tf.float32)),
                          num_parallel_calls=tf.data.AUTOTUNE)
    return dataset.prefetch(tf.data.AUTOTUNE)
