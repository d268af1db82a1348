/* anogan-train-common.h: what the GAN and the encoder trainers share
 * (internal)
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Both trainers walk the same data set the same way (epochs in a seeded
 * order, whole batches, seeded augmentation), take Adam steps on a
 * network's weights and biases, and write checkpoints that are model
 * files with Adam's moments and a JSON record of the run beside them.
 */
#pragma once

#include "anogan-train.h"
#include "anogan-safetensors.h"

G_BEGIN_DECLS

/* Independent random streams, one per purpose. */
enum {
  ANOGAN_TRAIN_STREAM_ORDER = 1,
  ANOGAN_TRAIN_STREAM_AUGMENT,
  ANOGAN_TRAIN_STREAM_Z,
};

/* One training run: its options, its data and where it stands. */
typedef struct {
  AnoganTrainOptions options;
  AnoganShape input;            /* of one patch */

  gsize n_patches;
  const float *patches;
  guint64 data_checksum;
  gboolean expect_checksum;     /* resumed: the data must be the same */

  gint64 step;
  guint32 *order;               /* the patches of epoch order_epoch */
  gint64 order_epoch;
} AnoganTrainRun;

gboolean anogan_train_check_options (const AnoganTrainOptions *options,
    GError **error);
guint64 anogan_train_stream_seed (guint64 seed, guint64 stream,
    guint64 index);

void anogan_train_run_init (AnoganTrainRun *run,
    const AnoganTrainOptions *options, const AnoganShape *input);
void anogan_train_run_clear (AnoganTrainRun *run);
gboolean anogan_train_run_set_data (AnoganTrainRun *run, gsize n_patches,
    const float *patches, GError **error);
gint64 anogan_train_run_steps_per_epoch (const AnoganTrainRun *run);
void anogan_train_run_draw (AnoganTrainRun *run, float *batch);
void anogan_train_run_set_threads (const AnoganTrainRun *run);

void anogan_train_zero_grads (const AnoganNet *net, AnoganLayerParams *grad);
void anogan_train_adam_net (const AnoganTrainRun *run, AnoganNet *net,
    AnoganLayerParams *grad, AnoganLayerParams *m, AnoganLayerParams *v);

JsonObject *anogan_train_run_to_json (const AnoganTrainRun *run);
gboolean anogan_train_save_checkpoint (const AnoganModel *model,
    const char *path, const char *key, JsonObject *state, const float *m,
    const float *v, gsize n, GError **error);

/* A checkpoint opened for resuming: the model, the record of the run
 * (options and step) and the file's tensors for Adam's moments. */
typedef struct {
  const char *path;
  AnoganModel *model;
  JsonObject *state;
  AnoganTrainOptions options;
  gint64 step;
  guint64 data_checksum;
  GMappedFile *mapping;
  AnoganSafetensors *st;
} AnoganTrainCheckpoint;

gboolean anogan_train_checkpoint_open (AnoganTrainCheckpoint *c,
    const char *path, const char *key, int threads, GError **error);
gboolean anogan_train_checkpoint_read_moments (const AnoganTrainCheckpoint *c,
    float *m, float *v, gsize n, GError **error);
void anogan_train_checkpoint_clear (AnoganTrainCheckpoint *c);
void anogan_train_run_resume (AnoganTrainRun *run,
    const AnoganTrainCheckpoint *c);

G_END_DECLS
