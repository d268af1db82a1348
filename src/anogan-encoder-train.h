/* anogan-encoder-train.h: training a model's encoder (f-AnoGAN, izi_f)
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "anogan-search.h"
#include "anogan-train.h"

G_BEGIN_DECLS

/**
 * AnoganEncoderTrainOptions:
 * @base: batch (64), learning rate (1e-4), betas (0.5, 0.999), seed,
 *   threads and augmentation, as for the GAN
 * @loss: the residual part of the loss, as the search measures it (L1)
 *
 * How an encoder is trained.  anogan_encoder_train_options_init() sets
 * the defaults; docs/anogan-train.md says why they are these.
 */
typedef struct {
  AnoganTrainOptions base;
  AnoganResidualLoss loss;
} AnoganEncoderTrainOptions;

void anogan_encoder_train_options_init (AnoganEncoderTrainOptions *options);

/**
 * AnoganEncoderTrainStats:
 * @loss: the batch's mean loss at z = E(x), (1-λ)·@residual +
 *   λ·@discrimination: the mean anomaly score the encoder mode would give
 *   these patches before the step
 * @residual: mean Σ|x - G(E(x))| (squared with %ANOGAN_LOSS_L2)
 * @discrimination: mean Σ|f(x) - f(G(E(x)))|
 *
 * What one step measured, for progress reports.
 */
typedef struct {
  double loss;
  double residual;
  double discrimination;
} AnoganEncoderTrainStats;

typedef struct _AnoganEncoderTrainer AnoganEncoderTrainer;

AnoganEncoderTrainer *anogan_encoder_trainer_new (AnoganModel *model,
    const AnoganEncoderTrainOptions *options, GError **error);
AnoganEncoderTrainer *anogan_encoder_trainer_resume (const char *checkpoint,
    int threads, GError **error);
void anogan_encoder_trainer_free (AnoganEncoderTrainer *trainer);

AnoganModel *anogan_encoder_trainer_get_model (AnoganEncoderTrainer *trainer);
const AnoganEncoderTrainOptions *anogan_encoder_trainer_get_options (
    AnoganEncoderTrainer *trainer);

gboolean anogan_encoder_trainer_set_data (AnoganEncoderTrainer *trainer,
    gsize n_patches, const float *patches, GError **error);
gint64 anogan_encoder_trainer_steps_per_epoch (AnoganEncoderTrainer *trainer);
gint64 anogan_encoder_trainer_get_step (AnoganEncoderTrainer *trainer);
const float *anogan_encoder_trainer_get_gradients (
    AnoganEncoderTrainer *trainer);

void anogan_encoder_trainer_step (AnoganEncoderTrainer *trainer,
    AnoganEncoderTrainStats *stats);
void anogan_encoder_trainer_step_with (AnoganEncoderTrainer *trainer,
    const float *patches, AnoganEncoderTrainStats *stats);

gboolean anogan_encoder_trainer_save_checkpoint (AnoganEncoderTrainer *trainer,
    const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AnoganEncoderTrainer,
    anogan_encoder_trainer_free)

G_END_DECLS
