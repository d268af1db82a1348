/* anogan-encoder-train.c: training a model's encoder (f-AnoGAN, izi_f)
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * f-AnoGAN (Schlegl et al., "f-AnoGAN: Fast unsupervised anomaly
 * detection with generative adversarial networks", Medical Image Analysis
 * 54, 2019) maps an image to z in one forward pass of an encoder E,
 * trained after the GAN against the frozen G and D.  Its izi_f
 * architecture trains E on normal images x alone, through the image and
 * the discriminator features of the reconstruction G(E(x)):
 *
 *   L(x) = (1-λ)·Σ|x - G(E(x))| + λ·Σ|f(x) - f(G(E(x)))|
 *
 * with f = D[:K+1] (E may read f(x) instead of x, when the model says
 * so: the search computes f(x) anyway).  This is the loss the search minimises and reports as
 * the anomaly score, at z = E(x), with the model's λ (and squared
 * residuals for an L2 search): E learns to give the start the search
 * would have looked for, and the encoder mode's one-pass score is the
 * loss E was trained on.  The paper writes the loss as
 * residual + κ·discrimination; here κ = λ/(1-λ), and the overall factor
 * 1-λ changes nothing Adam does.  The paper averages over pixels and
 * features (MSE) where the search sums: with Adam the scale of the loss
 * does not matter either, only the ratio of its parts, which is the
 * search's.
 *
 * Each step takes the mean of L over a batch of patches.  G and D run in
 * eval mode (BatchNorm on its running statistics, as at inference) and
 * only carry gradients back to their inputs; E runs in training mode and
 * takes the Adam step.  The data, its order and augmentation, Adam and
 * the checkpoints are the GAN trainer's (anogan-train-common.c).
 */
#include "anogan-encoder-train.h"
#include "anogan-train-common.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define CHECKPOINT_KEY "anogan_encoder_train"

struct _AnoganEncoderTrainer {
  AnoganModel *model;
  AnoganEncoderTrainOptions options;
  AnoganTrainRun run;           /* the options' base, data, step */
  float lambda;
  int d_layers;                 /* K+1: f = D[:K+1] */
  int n_features;               /* f's values per patch */

  /* E's gradients and Adam's moments, each in the layout of E's tensors
   * in model->storage. */
  float *block;
  AnoganLayerParams *grad, *m, *v;

  /* E in training mode with parameter gradients; G and D[:K+1] in eval
   * mode, to their inputs.  They take turns, so they share one block of
   * transient buffers. */
  AnoganNetWorkspace *e_ws, *g_ws, *d_ws;
  float *transient;

  /* One batch: patches NCHW and channel-major, f(x), the gradients with
   * respect to f(G(z)), G(z) and z, channel-major. */
  float *batch_block;
  float *patches_nchw, *x, *f_x, *grad_f, *grad_gz, *grad_z;
};

/**
 * anogan_encoder_train_options_init:
 * @options: (out caller-allocates): options to set to their defaults
 *
 * Batches of 64 as in f-AnoGAN, Adam with lr 1e-4 and betas (0.5, 0.999),
 * the L1 residual of the AnoGAN paper, seed 0, every core, no
 * augmentation.
 *
 * f-AnoGAN's own code trains E with RMSProp at 5e-5 for 50000 steps.
 * Adam, like RMSProp, moves each weight by about the learning rate
 * whatever the gradient's scale; at twice the paper's rate E gets where
 * it goes in the few thousand steps of a few dozen epochs, and β1 0.5,
 * the DCGAN setting G and D were trained with, smooths the steps of small
 * batches a little without the slow start of 0.9.
 */
void
anogan_encoder_train_options_init (AnoganEncoderTrainOptions *options)
{
  memset (options, 0, sizeof *options);
  anogan_train_options_init (&options->base);
  options->base.learning_rate = 1e-4;
  options->loss = ANOGAN_LOSS_L1;
}

static gboolean
check_model (const AnoganModel *model, GError **error)
{
  if (!anogan_model_has_encoder (model)) {
    g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA,
        "%s: the model has no encoder to train (anogan_model_add_encoder() "
        "gives it one)", model->name);
    return FALSE;
  }
  return TRUE;
}

static void
allocate_state (AnoganEncoderTrainer *t)
{
  const AnoganModel *model = t->model;
  const AnoganNet *e = &model->encoder, *g = &model->generator,
      *d = &model->discriminator;
  const int B = t->run.options.batch;
  gsize e_floats = anogan_net_param_floats (e);
  gsize image = anogan_shape_numel (&model->input) * B;
  gsize features = (gsize) t->n_features * B;
  gsize transient = MAX (MAX (
          anogan_net_workspace_transient_floats (e, e->n_layers, B),
          anogan_net_workspace_transient_floats (g, g->n_layers, B)),
      anogan_net_workspace_transient_floats (d, t->d_layers, B));
  AnoganLayerParams **bound[3] = { &t->grad, &t->m, &t->v };
  float *p;

  t->block = g_new0 (float, 3 * e_floats);
  for (int s = 0; s < 3; s++) {
    *bound[s] = g_new0 (AnoganLayerParams, e->n_layers);
    anogan_net_bind_params (e, t->block + s * e_floats, *bound[s]);
  }

  t->transient = g_new (float, transient);
  t->e_ws = anogan_net_workspace_new_lent (e, e->n_layers, B,
      ANOGAN_NET_TRAINING | ANOGAN_NET_PARAM_GRADS, t->transient);
  t->g_ws = anogan_net_workspace_new_lent (g, g->n_layers, B,
      ANOGAN_NET_INFERENCE, t->transient);
  t->d_ws = anogan_net_workspace_new_lent (d, t->d_layers, B,
      ANOGAN_NET_INFERENCE, t->transient);

  t->batch_block = g_new0 (float, 3 * image + 2 * features
      + (gsize) model->nz * B);
  p = t->batch_block;
  t->patches_nchw = p, p += image;
  t->x = p, p += image;
  t->grad_gz = p, p += image;
  t->f_x = p, p += features;
  t->grad_f = p, p += features;
  t->grad_z = p;
}

/**
 * anogan_encoder_trainer_new:
 * @model: (transfer full): a trained model with an encoder, freshly
 *   initialised (anogan_model_add_encoder()) or to train further; the
 *   trainer owns it and changes the encoder's tensors, never G's or D's
 * @options: training options
 * @error: return location for a #GError
 *
 * Plans an encoder trainer: E's gradients, Adam's moments and the
 * workspaces of E, G and D[:K+1] for one batch, allocated once.
 *
 * Returns: (transfer full) (nullable): the trainer, or %NULL with @error
 *   set (and @model freed) when the options or the model do not suit
 */
AnoganEncoderTrainer *
anogan_encoder_trainer_new (AnoganModel *model,
    const AnoganEncoderTrainOptions *options, GError **error)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (options != NULL, NULL);

  if (!anogan_train_check_options (&options->base, error)) {
    anogan_model_free (model);
    return NULL;
  }
  if (options->loss != ANOGAN_LOSS_L1 && options->loss != ANOGAN_LOSS_L2) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "unknown residual loss");
    anogan_model_free (model);
    return NULL;
  }
  if (!check_model (model, error)
      || !anogan_model_make_writable (model, error)) {
    anogan_model_free (model);
    return NULL;
  }

  AnoganEncoderTrainer *t = g_new0 (AnoganEncoderTrainer, 1);
  t->model = model;
  t->options = *options;
  anogan_train_run_init (&t->run, &options->base, &model->input);
  t->lambda = model->lambda;
  t->d_layers = model->feature_layer + 1;
  t->n_features = anogan_shape_numel (anogan_net_output_shape (
          &model->discriminator, t->d_layers));
  allocate_state (t);
  return t;
}

/**
 * anogan_encoder_trainer_free:
 * @trainer: (transfer full) (nullable): a trainer
 *
 * Frees @trainer and its model.
 */
void
anogan_encoder_trainer_free (AnoganEncoderTrainer *trainer)
{
  if (trainer == NULL)
    return;
  anogan_net_workspace_free (trainer->e_ws);
  anogan_net_workspace_free (trainer->g_ws);
  anogan_net_workspace_free (trainer->d_ws);
  g_free (trainer->transient);
  g_free (trainer->block);
  g_free (trainer->grad);
  g_free (trainer->m);
  g_free (trainer->v);
  g_free (trainer->batch_block);
  anogan_train_run_clear (&trainer->run);
  anogan_model_free (trainer->model);
  g_free (trainer);
}

/**
 * anogan_encoder_trainer_get_model:
 * @trainer: a trainer
 *
 * Returns: (transfer none): the model whose encoder is being trained;
 *   save it with anogan_model_save()
 */
AnoganModel *
anogan_encoder_trainer_get_model (AnoganEncoderTrainer *trainer)
{
  return trainer->model;
}

/**
 * anogan_encoder_trainer_get_options:
 * @trainer: a trainer
 *
 * Returns: (transfer none): its options (those of the checkpoint when
 *   resumed)
 */
const AnoganEncoderTrainOptions *
anogan_encoder_trainer_get_options (AnoganEncoderTrainer *trainer)
{
  return &trainer->options;
}

/**
 * anogan_encoder_trainer_get_step:
 * @trainer: a trainer
 *
 * Returns: the number of steps taken, those before a resume included
 */
gint64
anogan_encoder_trainer_get_step (AnoganEncoderTrainer *trainer)
{
  return trainer->run.step;
}

/**
 * anogan_encoder_trainer_get_gradients:
 * @trainer: a trainer
 *
 * The gradients of the last step's loss with respect to E's tensors, for
 * inspection, in the layout of E's part of model->storage (running
 * statistics have none and read 0).
 *
 * Returns: (transfer none) (array): anogan_net_param_floats() of the
 *   encoder floats
 */
const float *
anogan_encoder_trainer_get_gradients (AnoganEncoderTrainer *trainer)
{
  return trainer->block;
}

/**
 * anogan_encoder_trainer_set_data:
 * @trainer: a trainer
 * @n_patches: how many patches
 * @patches: (array): @n_patches normal patches NCHW of the model's input
 *   shape, values in [-1, 1]; borrowed until the trainer is freed or
 *   given other data
 * @error: return location for a #GError
 *
 * Sets the normal patches to train on, visited as the GAN trainer visits
 * them: a new random order each epoch, whole batches only.
 *
 * Returns: %FALSE when there is not one whole batch, or when a resumed
 *   trainer is given other data than it was trained on
 */
gboolean
anogan_encoder_trainer_set_data (AnoganEncoderTrainer *trainer,
    gsize n_patches, const float *patches, GError **error)
{
  return anogan_train_run_set_data (&trainer->run, n_patches, patches,
      error);
}

/**
 * anogan_encoder_trainer_steps_per_epoch:
 * @trainer: a trainer with data
 *
 * Returns: the whole batches in one pass over the data
 */
gint64
anogan_encoder_trainer_steps_per_epoch (AnoganEncoderTrainer *trainer)
{
  return anogan_train_run_steps_per_epoch (&trainer->run);
}

/* d/dt |t| is sign(t), with 0 at 0 as PyTorch has it. */
static inline float
sign_of (float t)
{
  return (float) ((t > 0.0f) - (t < 0.0f));
}

/* The discrimination part of the batch's mean loss, Σ|f(x) - f(G(z))| per
 * patch averaged, and its gradient with respect to f(G(z)) in grad_f.
 * Channel-major buffers make one patch's features runs of f's plane, but
 * the sums and signs need no patch order. */
static double
discrimination_part (AnoganEncoderTrainer *t, const float *f_gz)
{
  const int B = t->run.options.batch;
  const gsize n = (gsize) t->n_features * B;
  const float weight = t->lambda / B;
  double sum = 0.0;

  for (gsize i = 0; i < n; i++) {
    float d = f_gz[i] - t->f_x[i];

    sum += fabsf (d);
    t->grad_f[i] = weight * sign_of (d);
  }
  return sum / B;
}

/* The residual part, Σ|x - G(z)| (or Σ(x - G(z))²) per patch averaged;
 * its gradient is added to grad_gz. */
static double
residual_part (AnoganEncoderTrainer *t, const float *gz)
{
  const int B = t->run.options.batch;
  const gsize n = anogan_shape_numel (&t->model->input) * B;
  const gboolean l1 = t->options.loss == ANOGAN_LOSS_L1;
  const float weight = (1.0f - t->lambda) / B;
  double sum = 0.0;

  for (gsize i = 0; i < n; i++) {
    float d = gz[i] - t->x[i];

    sum += l1 ? fabsf (d) : (double) d * d;
    t->grad_gz[i] += weight * (l1 ? sign_of (d) : 2.0f * d);
  }
  return sum / B;
}

/**
 * anogan_encoder_trainer_step_with:
 * @trainer: a trainer
 * @patches: one batch of normal patches, NCHW
 * @stats: (out) (optional): what the step measured
 *
 * One training step on the given batch: the batch's mean loss at
 * z = E(x) backpropagated through D[:K+1] and G to E, and one Adam step
 * on E.  Tests use it to compare with a reference; training uses
 * anogan_encoder_trainer_step().
 */
void
anogan_encoder_trainer_step_with (AnoganEncoderTrainer *t,
    const float *patches, AnoganEncoderTrainStats *stats)
{
  AnoganModel *model = t->model;
  AnoganNet *e = &model->encoder;
  const AnoganNet *g = &model->generator, *d = &model->discriminator;
  const int B = t->run.options.batch;
  const AnoganShape *in = &model->input;
  AnoganEncoderTrainStats s;
  const float *z, *gz, *f_gz;

  anogan_train_run_set_threads (&t->run);
  anogan_nchw_to_cnhw (patches, t->x, B, in->dims[0],
      (gsize) in->dims[1] * in->dims[2]);

  /* f(x) first: D's workspace then serves f(G(z)) and its backward. */
  memcpy (t->f_x, anogan_net_forward (d, t->d_ws, B, t->x),
      (gsize) t->n_features * B * sizeof (float));
  /* E reads x or f(x); its output, [nz][B] (or [nz][B][1][1]), is z as G
   * takes it. */
  z = anogan_net_forward (e, t->e_ws, B,
      model->encoder_reads_features ? t->f_x : t->x);
  anogan_net_update_running_stats (e, t->e_ws);
  gz = anogan_net_forward (g, t->g_ws, B, z);
  f_gz = anogan_net_forward (d, t->d_ws, B, gz);

  /* D's backward writes d(discrimination)/dG(z); the residual's gradient
   * is added on top, G takes it back to z and E to its parameters. */
  s.discrimination = discrimination_part (t, f_gz);
  anogan_net_backward (d, t->d_ws, t->grad_f, t->grad_gz, NULL);
  s.residual = residual_part (t, gz);
  anogan_net_backward (g, t->g_ws, t->grad_gz, t->grad_z, NULL);
  anogan_train_zero_grads (e, t->grad);
  anogan_net_backward (e, t->e_ws, t->grad_z, NULL, t->grad);
  anogan_train_adam_net (&t->run, e, t->grad, t->m, t->v);
  s.loss = (1.0 - t->lambda) * s.residual + t->lambda * s.discrimination;

  t->run.step++;
  if (stats)
    *stats = s;
}

/**
 * anogan_encoder_trainer_step:
 * @trainer: a trainer with data
 * @stats: (out) (optional): what the step measured
 *
 * One training step on the next batch of the data, augmented as the
 * options say.
 */
void
anogan_encoder_trainer_step (AnoganEncoderTrainer *trainer,
    AnoganEncoderTrainStats *stats)
{
  g_return_if_fail (trainer->run.patches != NULL);

  anogan_train_run_draw (&trainer->run, trainer->patches_nchw);
  anogan_encoder_trainer_step_with (trainer, trainer->patches_nchw, stats);
}

/* ---- Checkpoints ---- */

/**
 * anogan_encoder_trainer_save_checkpoint:
 * @trainer: a trainer
 * @path: where to write
 * @error: return location for a #GError
 *
 * Writes the model with the trainer's state, as the GAN trainer does:
 * Adam's moments of E's tensors as `trainer.adam_m` and `trainer.adam_v`,
 * the step, the options (the residual loss among them) and a checksum of
 * the data in the `anogan_encoder_train` metadata.  The file is a model
 * file too, with the encoder as far as it is trained.  It is replaced
 * atomically.
 *
 * Returns: %TRUE on success
 */
gboolean
anogan_encoder_trainer_save_checkpoint (AnoganEncoderTrainer *trainer,
    const char *path, GError **error)
{
  gsize n = anogan_net_param_floats (&trainer->model->encoder);
  JsonObject *state = anogan_train_run_to_json (&trainer->run);

  json_object_set_string_member (state, "loss",
      trainer->options.loss == ANOGAN_LOSS_L2 ? "l2" : "l1");
  return anogan_train_save_checkpoint (trainer->model, path, CHECKPOINT_KEY,
      state, trainer->block + n, trainer->block + 2 * n, n, error);
}

/**
 * anogan_encoder_trainer_resume:
 * @checkpoint: a file written by anogan_encoder_trainer_save_checkpoint()
 * @threads: OpenBLAS threads (keep the count to continue bit for bit)
 * @error: return location for a #GError
 *
 * A trainer in the state the checkpoint was saved in: the model with its
 * encoder, Adam's moments, the step, the options.  Give it the same data
 * with anogan_encoder_trainer_set_data(), which checks that they are.
 *
 * Returns: (transfer full) (nullable): the trainer, or %NULL with @error
 *   naming the file and the problem
 */
AnoganEncoderTrainer *
anogan_encoder_trainer_resume (const char *checkpoint, int threads,
    GError **error)
{
  AnoganTrainCheckpoint c;
  AnoganEncoderTrainOptions options;
  AnoganEncoderTrainer *t = NULL;

  g_return_val_if_fail (checkpoint != NULL, NULL);

  anogan_encoder_train_options_init (&options);
  if (anogan_train_checkpoint_open (&c, checkpoint, CHECKPOINT_KEY, threads,
          error)) {
    const char *loss = json_object_get_string_member_with_default (c.state,
        "loss", "");

    options.base = c.options;
    options.loss = strcmp (loss, "l2") == 0 ? ANOGAN_LOSS_L2 : ANOGAN_LOSS_L1;
    if (strcmp (loss, "l1") != 0 && strcmp (loss, "l2") != 0)
      g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA,
          "%s: not a usable training checkpoint: bad loss", checkpoint);
    else
      t = anogan_encoder_trainer_new (g_steal_pointer (&c.model), &options,
          error);
  }
  if (t != NULL) {
    gsize n = anogan_net_param_floats (&t->model->encoder);

    if (anogan_train_checkpoint_read_moments (&c, t->block + n,
            t->block + 2 * n, n, error))
      anogan_train_run_resume (&t->run, &c);
    else
      g_clear_pointer (&t, anogan_encoder_trainer_free);
  }
  anogan_train_checkpoint_clear (&c);
  return t;
}
