/* anogan-train.c: training a model's GAN on normal images
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The DCGAN recipe (Radford, Metz and Chintala, 2016) in the order of
 * PyTorch's DCGAN example, so that a step here is the step PyTorch takes:
 *
 *   D step: D(x) against label 1, D(G(z)) against label 0, gradients
 *           summed, one Adam step on D;
 *   G step: D(G(z)) against label 1 (the non-saturating loss of Goodfellow
 *           et al., 2014) through the updated D, one Adam step on G.
 *
 * Both networks run in training mode: BatchNorm normalises with the
 * statistics of the batch at hand and moves its running statistics after
 * every forward pass, as a PyTorch module does.  D's final Sigmoid is
 * folded into the loss (binary cross-entropy on logits), which is exact
 * and stays finite when D is sure of itself.
 *
 * Everything random (the order of the patches in an epoch, their
 * augmentation, z) is a function of the seed and the step number, so a
 * run resumed from a checkpoint continues bit for bit.
 */
#include "anogan-train.h"
#include "anogan-train-common.h"
#include "anogan-random.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define CHECKPOINT_KEY "anogan_train"

struct _AnoganTrainer {
  AnoganModel *model;
  AnoganTrainRun run;           /* options, data, step */
  int d_layers;                 /* D without its Sigmoid: it gives logits */

  /* Gradients and Adam's moments, each in the layout of model->storage:
   * G's tensors, then D's. */
  float *block;
  AnoganLayerParams *g_grad, *g_m, *g_v;
  AnoganLayerParams *d_grad, *d_m, *d_v;

  AnoganNetWorkspace *g_ws, *d_ws;

  /* One batch: real patches NCHW and channel-major, z [B][nz] and
   * [nz][B], the gradient into G's output, D's logits' gradient. */
  float *batch_block;
  float *real_nchw, *real, *z_rows, *z, *dfake, *dlogit;
};

/**
 * anogan_train_options_init:
 * @options: (out caller-allocates): options to set to their defaults
 */
void
anogan_train_options_init (AnoganTrainOptions *options)
{
  memset (options, 0, sizeof *options);
  options->batch = 64;
  options->learning_rate = 2e-4;
  options->beta1 = 0.5;
  options->beta2 = 0.999;
  options->seed = 0;
  options->threads = 0;
  options->augment = 0;
}

/* Binary cross-entropy needs D's probability; D must end in a Sigmoid
 * after a single output, which the trainer replaces by the loss. */
static gboolean
check_discriminator (const AnoganModel *model, GError **error)
{
  const AnoganNet *d = &model->discriminator;

  if (d->n_layers < 2 || d->layers[d->n_layers - 1].kind !=
      ANOGAN_LAYER_SIGMOID) {
    g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA,
        "%s: the discriminator must end in a Sigmoid to be trained with "
        "binary cross-entropy", model->name);
    return FALSE;
  }
  if (anogan_shape_numel (anogan_net_output_shape (d, d->n_layers)) != 1) {
    g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA,
        "%s: the discriminator must give one value per image",
        model->name);
    return FALSE;
  }
  return TRUE;
}

static void
allocate_state (AnoganTrainer *t)
{
  AnoganModel *model = t->model;
  const AnoganNet *g = &model->generator, *d = &model->discriminator;
  gsize g_floats = anogan_net_param_floats (g);
  gsize total = anogan_model_param_floats (model);
  AnoganLayerParams **bound[3][2] = {
    {&t->g_grad, &t->d_grad}, {&t->g_m, &t->d_m}, {&t->g_v, &t->d_v},
  };
  const int B = t->run.options.batch;
  gsize image = anogan_shape_numel (&model->input) * B;
  gsize latent = (gsize) model->nz * B;
  float *p;

  t->block = g_new0 (float, 3 * total);
  for (int s = 0; s < 3; s++) {
    *bound[s][0] = g_new0 (AnoganLayerParams, g->n_layers);
    *bound[s][1] = g_new0 (AnoganLayerParams, d->n_layers);
    anogan_net_bind_params (g, t->block + s * total, *bound[s][0]);
    anogan_net_bind_params (d, t->block + s * total + g_floats,
        *bound[s][1]);
  }

  t->g_ws = anogan_net_workspace_new (g, g->n_layers, B,
      ANOGAN_NET_TRAINING | ANOGAN_NET_PARAM_GRADS);
  t->d_ws = anogan_net_workspace_new (d, t->d_layers, B,
      ANOGAN_NET_TRAINING | ANOGAN_NET_PARAM_GRADS);

  t->batch_block = g_new0 (float, 3 * image + 2 * latent + B);
  p = t->batch_block;
  t->real_nchw = p, p += image;
  t->real = p, p += image;
  t->dfake = p, p += image;
  t->z_rows = p, p += latent;
  t->z = p, p += latent;
  t->dlogit = p;
}

/**
 * anogan_trainer_new:
 * @model: (transfer full): the model to train, its weights initialised
 *   (anogan_model_init_weights() for a new one); the trainer owns it and
 *   changes its tensors
 * @options: training options
 * @error: return location for a #GError
 *
 * Plans a trainer: gradients, Adam's moments and the workspaces of both
 * networks for one batch, allocated once.
 *
 * Returns: (transfer full) (nullable): the trainer, or %NULL with @error
 *   set (and @model freed) when the options or the model do not suit
 */
AnoganTrainer *
anogan_trainer_new (AnoganModel *model, const AnoganTrainOptions *options,
    GError **error)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (options != NULL, NULL);

  if (!anogan_train_check_options (options, error)
      || !check_discriminator (model, error)
      || !anogan_model_make_writable (model, error)) {
    anogan_model_free (model);
    return NULL;
  }

  AnoganTrainer *t = g_new0 (AnoganTrainer, 1);
  t->model = model;
  anogan_train_run_init (&t->run, options, &model->input);
  t->d_layers = model->discriminator.n_layers - 1;
  allocate_state (t);
  return t;
}

/**
 * anogan_trainer_free:
 * @trainer: (transfer full) (nullable): a trainer
 *
 * Frees @trainer and its model.
 */
void
anogan_trainer_free (AnoganTrainer *trainer)
{
  if (trainer == NULL)
    return;
  anogan_net_workspace_free (trainer->g_ws);
  anogan_net_workspace_free (trainer->d_ws);
  g_free (trainer->block);
  g_free (trainer->g_grad);
  g_free (trainer->d_grad);
  g_free (trainer->g_m);
  g_free (trainer->d_m);
  g_free (trainer->g_v);
  g_free (trainer->d_v);
  g_free (trainer->batch_block);
  anogan_train_run_clear (&trainer->run);
  anogan_model_free (trainer->model);
  g_free (trainer);
}

/**
 * anogan_trainer_get_model:
 * @trainer: a trainer
 *
 * Returns: (transfer none): the model being trained; save it with
 *   anogan_model_save()
 */
AnoganModel *
anogan_trainer_get_model (AnoganTrainer *trainer)
{
  return trainer->model;
}

/**
 * anogan_trainer_get_options:
 * @trainer: a trainer
 *
 * Returns: (transfer none): its options (those of the checkpoint when
 *   resumed)
 */
const AnoganTrainOptions *
anogan_trainer_get_options (AnoganTrainer *trainer)
{
  return &trainer->run.options;
}

/**
 * anogan_trainer_get_step:
 * @trainer: a trainer
 *
 * Returns: the number of steps taken, those before a resume included
 */
gint64
anogan_trainer_get_step (AnoganTrainer *trainer)
{
  return trainer->run.step;
}

/**
 * anogan_trainer_get_gradients:
 * @trainer: a trainer
 *
 * The gradients of the last step, for inspection: G's with respect to
 * its loss, D's summed over its real and fake batches, in the layout of
 * model->storage (running statistics have none and read 0).
 *
 * Returns: (transfer none) (array): anogan_model_param_floats() floats
 */
const float *
anogan_trainer_get_gradients (AnoganTrainer *trainer)
{
  return trainer->block;
}

/**
 * anogan_trainer_set_data:
 * @trainer: a trainer
 * @n_patches: how many patches
 * @patches: (array): @n_patches patches NCHW of the model's input shape,
 *   values in [-1, 1]; borrowed until the trainer is freed or given other
 *   data
 * @error: return location for a #GError
 *
 * Sets the normal patches to train on.  Each epoch visits them in a new
 * random order, in whole batches (a last partial batch is left out, as
 * BatchNorm's statistics would be poor on it).
 *
 * Returns: %FALSE when there is not one whole batch, or when a resumed
 *   trainer is given other data than it was trained on
 */
gboolean
anogan_trainer_set_data (AnoganTrainer *trainer, gsize n_patches,
    const float *patches, GError **error)
{
  return anogan_train_run_set_data (&trainer->run, n_patches, patches,
      error);
}

/**
 * anogan_trainer_steps_per_epoch:
 * @trainer: a trainer with data
 *
 * Returns: the whole batches in one pass over the data
 */
gint64
anogan_trainer_steps_per_epoch (AnoganTrainer *trainer)
{
  return anogan_train_run_steps_per_epoch (&trainer->run);
}

/* The real batch and z of the current step. */
static void
draw_batch (AnoganTrainer *t)
{
  const AnoganTrainRun *run = &t->run;
  guint64 rng = anogan_train_stream_seed (run->options.seed,
      ANOGAN_TRAIN_STREAM_Z, run->step);

  anogan_train_run_draw (&t->run, t->real_nchw);
  for (gsize i = 0; i < (gsize) run->options.batch * t->model->nz; i++)
    t->z_rows[i] = (float) anogan_random_normal (&rng);
}

/* log(1 + e^x) without overflow. */
static double
softplus (double x)
{
  return fmax (x, 0.0) + log1p (exp (-fabs (x)));
}

/* Binary cross-entropy of the batch's logits against @label, mean over
 * the batch; its gradient goes to t->dlogit.  Returns the loss and the
 * mean probability D gave. */
static double
bce_logits (AnoganTrainer *t, const float *logits, int label,
    double *mean_probability)
{
  const int B = t->run.options.batch;
  double loss = 0.0, p_sum = 0.0;

  for (int b = 0; b < B; b++) {
    double l = logits[b];
    double p = 1.0 / (1.0 + exp (-l));

    loss += label ? softplus (-l) : softplus (l);
    p_sum += p;
    t->dlogit[b] = (float) ((p - label) / B);
  }
  if (mean_probability)
    *mean_probability = p_sum / B;
  return loss / B;
}

/* D forward in training mode on a channel-major batch, running
 * statistics moved, the loss against @label backpropagated: into D's
 * parameter gradients when @param_grads, into @dx when given. */
static double
discriminate (AnoganTrainer *t, const float *x, int label,
    gboolean param_grads, float *dx, double *mean_probability)
{
  AnoganNet *d = &t->model->discriminator;
  const float *logits = anogan_net_forward (d, t->d_ws, t->run.options.batch,
      x);
  double loss = bce_logits (t, logits, label, mean_probability);

  anogan_net_update_running_stats (d, t->d_ws);
  anogan_net_backward (d, t->d_ws, t->dlogit, dx,
      param_grads ? t->d_grad : NULL);
  return loss;
}

/**
 * anogan_trainer_step_with:
 * @trainer: a trainer
 * @real: one batch of real patches, NCHW
 * @z: one batch of latent vectors, [batch][nz]
 * @stats: (out) (optional): what the step measured
 *
 * One training step on the given batch: D's step, then G's.  Tests use it
 * to compare with a reference; training uses anogan_trainer_step().
 */
void
anogan_trainer_step_with (AnoganTrainer *t, const float *real,
    const float *z, AnoganTrainStats *stats)
{
  AnoganModel *model = t->model;
  AnoganNet *g = &model->generator, *d = &model->discriminator;
  const int B = t->run.options.batch;
  const AnoganShape *in = &model->input;
  AnoganTrainStats s;
  const float *fake;

  anogan_train_run_set_threads (&t->run);
  anogan_nchw_to_cnhw (real, t->real, B, in->dims[0],
      (gsize) in->dims[1] * in->dims[2]);
  anogan_nchw_to_cnhw (z, t->z, B, model->nz, 1);

  /* D's step: real against 1, G(z) against 0. */
  anogan_train_zero_grads (d, t->d_grad);
  s.d_loss = discriminate (t, t->real, 1, TRUE, NULL, &s.d_real);
  fake = anogan_net_forward (g, t->g_ws, B, t->z);
  anogan_net_update_running_stats (g, t->g_ws);
  s.d_loss += discriminate (t, fake, 0, TRUE, NULL, &s.d_fake);
  anogan_train_adam_net (&t->run, d, t->d_grad, t->d_m, t->d_v);

  /* G's step: G(z) against 1 through the updated D. */
  anogan_train_zero_grads (g, t->g_grad);
  s.g_loss = discriminate (t, fake, 1, FALSE, t->dfake, NULL);
  anogan_net_backward (g, t->g_ws, t->dfake, NULL, t->g_grad);
  anogan_train_adam_net (&t->run, g, t->g_grad, t->g_m, t->g_v);

  t->run.step++;
  if (stats)
    *stats = s;
}

/**
 * anogan_trainer_step:
 * @trainer: a trainer with data
 * @stats: (out) (optional): what the step measured
 *
 * One training step on the next batch of the data, augmented as the
 * options say, with z drawn from N(0, 1).
 */
void
anogan_trainer_step (AnoganTrainer *trainer, AnoganTrainStats *stats)
{
  g_return_if_fail (trainer->run.patches != NULL);

  draw_batch (trainer);
  anogan_trainer_step_with (trainer, trainer->real_nchw, trainer->z_rows,
      stats);
}

/* ---- Checkpoints ---- */

/**
 * anogan_trainer_save_checkpoint:
 * @trainer: a trainer
 * @path: where to write
 * @error: return location for a #GError
 *
 * Writes the model with the trainer's state: Adam's moments as tensors
 * `trainer.adam_m` and `trainer.adam_v` (in the layout of the model's
 * tensors), the step, the options and a checksum of the data in the
 * `anogan_train` metadata.  The file is a model file too:
 * anogan_model_load() reads it and skips the trainer's tensors.  It is
 * replaced atomically, so an interrupted write leaves the last one whole.
 *
 * Returns: %TRUE on success
 */
gboolean
anogan_trainer_save_checkpoint (AnoganTrainer *trainer, const char *path,
    GError **error)
{
  gsize total = anogan_model_param_floats (trainer->model);

  return anogan_train_save_checkpoint (trainer->model, path, CHECKPOINT_KEY,
      anogan_train_run_to_json (&trainer->run), trainer->block + total,
      trainer->block + 2 * total, total, error);
}

/**
 * anogan_trainer_resume:
 * @checkpoint: a file written by anogan_trainer_save_checkpoint()
 * @threads: OpenBLAS threads (a run is deterministic for a given seed and
 *   thread count, so keep the count to continue bit for bit)
 * @error: return location for a #GError
 *
 * A trainer in the state the checkpoint was saved in: the model, Adam's
 * moments, the step, the options.  Give it the same data with
 * anogan_trainer_set_data(), which checks that they are.
 *
 * Returns: (transfer full) (nullable): the trainer, or %NULL with @error
 *   naming the file and the problem
 */
AnoganTrainer *
anogan_trainer_resume (const char *checkpoint, int threads, GError **error)
{
  AnoganTrainCheckpoint c;
  AnoganTrainer *t = NULL;

  g_return_val_if_fail (checkpoint != NULL, NULL);

  if (anogan_train_checkpoint_open (&c, checkpoint, CHECKPOINT_KEY, threads,
          error))
    t = anogan_trainer_new (g_steal_pointer (&c.model), &c.options, error);
  if (t != NULL) {
    gsize total = anogan_model_param_floats (t->model);

    if (anogan_train_checkpoint_read_moments (&c, t->block + total,
            t->block + 2 * total, total, error))
      anogan_train_run_resume (&t->run, &c);
    else
      g_clear_pointer (&t, anogan_trainer_free);
  }
  anogan_train_checkpoint_clear (&c);
  return t;
}
