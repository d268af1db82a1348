/* anogan-train.h: training a model's GAN on normal images
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "anogan-model.h"

G_BEGIN_DECLS

/**
 * AnoganAugment:
 * @ANOGAN_AUGMENT_HFLIP: mirror left to right, half of the time
 * @ANOGAN_AUGMENT_VFLIP: mirror top to bottom, half of the time
 * @ANOGAN_AUGMENT_ROT90: turn by 0, 90, 180 or 270 degrees (square
 *   patches only)
 *
 * Random changes to each training patch that leave it normal.  Choose
 * only those the data really allows: a brick wall turned by 90 degrees
 * is no longer a normal wall.
 */
typedef enum {
  ANOGAN_AUGMENT_HFLIP = 1 << 0,
  ANOGAN_AUGMENT_VFLIP = 1 << 1,
  ANOGAN_AUGMENT_ROT90 = 1 << 2,
} AnoganAugment;

/**
 * AnoganTrainOptions:
 * @batch: patches per step (64)
 * @learning_rate: Adam's step size for both networks (2e-4)
 * @beta1: Adam's first-moment decay (0.5)
 * @beta2: Adam's second-moment decay (0.999)
 * @seed: the seed of the data order, the augmentation and z
 * @threads: OpenBLAS threads; 0 uses every core
 * @augment: #AnoganAugment flags
 *
 * The defaults, set by anogan_train_options_init(), are the DCGAN
 * paper's (Radford, Metz and Chintala, 2016).
 */
typedef struct {
  int batch;
  double learning_rate;
  double beta1;
  double beta2;
  guint64 seed;
  int threads;
  guint augment;
} AnoganTrainOptions;

void anogan_train_options_init (AnoganTrainOptions *options);

/**
 * AnoganTrainStats:
 * @d_loss: the discriminator's binary cross-entropy, real plus fake
 * @g_loss: the generator's non-saturating loss, -mean log D(G(z))
 * @d_real: mean D(x) over the real patches
 * @d_fake: mean D(G(z)) before the discriminator's step
 *
 * What one training step measured, for progress reports.
 */
typedef struct {
  double d_loss;
  double g_loss;
  double d_real;
  double d_fake;
} AnoganTrainStats;

typedef struct _AnoganTrainer AnoganTrainer;

AnoganTrainer *anogan_trainer_new (AnoganModel *model,
    const AnoganTrainOptions *options, GError **error);
AnoganTrainer *anogan_trainer_resume (const char *checkpoint,
    int threads, GError **error);
void anogan_trainer_free (AnoganTrainer *trainer);

AnoganModel *anogan_trainer_get_model (AnoganTrainer *trainer);
const AnoganTrainOptions *anogan_trainer_get_options (AnoganTrainer *trainer);

gboolean anogan_trainer_set_data (AnoganTrainer *trainer, gsize n_patches,
    const float *patches, GError **error);
gint64 anogan_trainer_steps_per_epoch (AnoganTrainer *trainer);
gint64 anogan_trainer_get_step (AnoganTrainer *trainer);
const float *anogan_trainer_get_gradients (AnoganTrainer *trainer);

void anogan_trainer_step (AnoganTrainer *trainer, AnoganTrainStats *stats);
void anogan_trainer_step_with (AnoganTrainer *trainer, const float *real,
    const float *z, AnoganTrainStats *stats);

gboolean anogan_trainer_save_checkpoint (AnoganTrainer *trainer,
    const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AnoganTrainer, anogan_trainer_free)

G_END_DECLS
