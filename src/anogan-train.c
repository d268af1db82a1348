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
#include "anogan-adam.h"
#include "anogan-random.h"

#include <cblas.h>
#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define ADAM_EPS 1e-8
#define CHECKPOINT_KEY "anogan_train"
#define CHECKPOINT_VERSION 1

/* Independent random streams, one per purpose. */
enum { STREAM_ORDER = 1, STREAM_AUGMENT, STREAM_Z };

struct _AnoganTrainer {
  AnoganModel *model;
  AnoganTrainOptions options;
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

  gsize n_patches;
  const float *patches;
  guint64 data_checksum;
  gboolean expect_checksum;     /* resumed: the data must be the same */

  gint64 step;
  guint32 *order;               /* the patches of epoch order_epoch */
  gint64 order_epoch;
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

static guint64
stream_seed (guint64 seed, guint64 stream, guint64 index)
{
  guint64 s = seed ^ (stream * 0xD1B54A32D192ED03ull);

  s = anogan_random_next (&s) ^ index;
  return anogan_random_next (&s);
}

static gboolean
check_options (const AnoganTrainOptions *o, GError **error)
{
  const char *problem = NULL;

  if (o->batch < 2 || o->batch > 65536)
    problem = "batch must be between 2 and 65536 (BatchNorm needs two "
        "samples)";
  else if (!(o->learning_rate > 0.0 && o->learning_rate < 1.0))
    problem = "learning rate must be in (0, 1)";
  else if (!(o->beta1 >= 0.0 && o->beta1 < 1.0)
      || !(o->beta2 >= 0.0 && o->beta2 < 1.0))
    problem = "Adam's betas must be in [0, 1)";
  else if (o->threads < 0 || o->threads > 1024)
    problem = "threads must be between 0 and 1024";
  else if (o->augment & ~(guint) (ANOGAN_AUGMENT_HFLIP | ANOGAN_AUGMENT_VFLIP
          | ANOGAN_AUGMENT_ROT90))
    problem = "unknown augmentation";
  if (problem)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        problem);
  return problem == NULL;
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
  const int B = t->options.batch;
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

  if (!check_options (options, error) || !check_discriminator (model, error)
      || !anogan_model_make_writable (model, error)) {
    anogan_model_free (model);
    return NULL;
  }

  AnoganTrainer *t = g_new0 (AnoganTrainer, 1);
  t->model = model;
  t->options = *options;
  t->d_layers = model->discriminator.n_layers - 1;
  t->order_epoch = -1;
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
  g_free (trainer->order);
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
  return &trainer->options;
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
  return trainer->step;
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

/* FNV-1a over the patches' bits: a resumed run must see the same data. */
static guint64
checksum_floats (const float *data, gsize n)
{
  const guint8 *bytes = (const guint8 *) data;
  guint64 h = 0xCBF29CE484222325ull;

  for (gsize i = 0; i < n * sizeof (float); i++)
    h = (h ^ bytes[i]) * 0x100000001B3ull;
  return h;
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
  gsize numel = anogan_shape_numel (&trainer->model->input);
  guint64 checksum;

  if (n_patches < (gsize) trainer->options.batch || n_patches > G_MAXUINT32) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%" G_GSIZE_FORMAT " training patches: at least one batch of %d "
        "and at most %u are needed", n_patches, trainer->options.batch,
        G_MAXUINT32);
    return FALSE;
  }
  checksum = checksum_floats (patches, n_patches * numel);
  if (trainer->expect_checksum && checksum != trainer->data_checksum) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the training data differ from those the checkpoint was trained "
        "on (%" G_GSIZE_FORMAT " patches); a resumed run must see the same "
        "patches", n_patches);
    return FALSE;
  }
  trainer->n_patches = n_patches;
  trainer->patches = patches;
  trainer->data_checksum = checksum;
  trainer->order = g_renew (guint32, trainer->order, n_patches);
  trainer->order_epoch = -1;
  return TRUE;
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
  return (gint64) (trainer->n_patches / trainer->options.batch);
}

/* The order of the patches in @epoch: a Fisher-Yates shuffle seeded by
 * the epoch alone. */
static void
shuffle_epoch (AnoganTrainer *t, gint64 epoch)
{
  guint64 rng = stream_seed (t->options.seed, STREAM_ORDER, epoch);

  for (gsize i = 0; i < t->n_patches; i++)
    t->order[i] = i;
  for (gsize i = t->n_patches - 1; i > 0; i--) {
    gsize j = anogan_random_next (&rng) % (i + 1);
    guint32 tmp = t->order[i];
    t->order[i] = t->order[j];
    t->order[j] = tmp;
  }
  t->order_epoch = epoch;
}

/* Copies one patch, turned by @quarter_turns x 90 degrees (counter-
 * clockwise, as numpy.rot90) and then mirrored as asked. */
static void
copy_augmented (const float *src, float *dst, int channels, int height,
    int width, int quarter_turns, gboolean hflip, gboolean vflip)
{
  for (int c = 0; c < channels; c++) {
    const float *s = src + (gsize) c * height * width;
    float *d = dst + (gsize) c * height * width;

    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int ty = vflip ? height - 1 - y : y;
        int tx = hflip ? width - 1 - x : x;
        int sy, sx;

        switch (quarter_turns) {
          case 1: sy = tx; sx = width - 1 - ty; break;
          case 2: sy = height - 1 - ty; sx = width - 1 - tx; break;
          case 3: sy = height - 1 - tx; sx = ty; break;
          default: sy = ty; sx = tx; break;
        }
        d[y * width + x] = s[sy * width + sx];
      }
    }
  }
}

/* The real batch and z of the current step. */
static void
draw_batch (AnoganTrainer *t)
{
  const AnoganShape *in = &t->model->input;
  const int B = t->options.batch;
  const int C = in->dims[0], H = in->dims[1], W = in->dims[2];
  gsize numel = anogan_shape_numel (in);
  gint64 per_epoch = anogan_trainer_steps_per_epoch (t);
  gint64 epoch = t->step / per_epoch;
  gsize first = (gsize) (t->step % per_epoch) * B;
  guint64 rng = stream_seed (t->options.seed, STREAM_AUGMENT, t->step);
  guint aug = t->options.augment;

  if (epoch != t->order_epoch)
    shuffle_epoch (t, epoch);
  for (int b = 0; b < B; b++) {
    guint64 r = anogan_random_next (&rng);
    int turns = (aug & ANOGAN_AUGMENT_ROT90) && H == W ? (r >> 2) & 3 : 0;

    copy_augmented (t->patches + t->order[first + b] * numel,
        t->real_nchw + b * numel, C, H, W, turns,
        (aug & ANOGAN_AUGMENT_HFLIP) && (r & 1),
        (aug & ANOGAN_AUGMENT_VFLIP) && (r & 2));
  }

  rng = stream_seed (t->options.seed, STREAM_Z, t->step);
  for (gsize i = 0; i < (gsize) B * t->model->nz; i++)
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
  const int B = t->options.batch;
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
  const float *logits = anogan_net_forward (d, t->d_ws, t->options.batch, x);
  double loss = bce_logits (t, logits, label, mean_probability);

  anogan_net_update_running_stats (d, t->d_ws);
  anogan_net_backward (d, t->d_ws, t->dlogit, dx,
      param_grads ? t->d_grad : NULL);
  return loss;
}

static void
adam_net (const AnoganTrainer *t, AnoganNet *net, AnoganLayerParams *grad,
    AnoganLayerParams *m, AnoganLayerParams *v)
{
  const AnoganAdamStep adam = anogan_adam_step_new (
      t->options.learning_rate, t->options.beta1, t->options.beta2,
      ADAM_EPS, t->step + 1);
  static const AnoganParamKind trained[] = {
    ANOGAN_PARAM_WEIGHT, ANOGAN_PARAM_BIAS,
  };

  for (int i = 0; i < net->n_layers; i++) {
    for (guint k = 0; k < G_N_ELEMENTS (trained); k++) {
      gsize n = anogan_layer_param_floats (&net->layers[i], trained[k]);
      float *p = net->params[i].t[trained[k]];
      float *pm = m[i].t[trained[k]], *pv = v[i].t[trained[k]];
      const float *g = grad[i].t[trained[k]];

      for (gsize j = 0; j < n; j++)
        anogan_adam_update (&adam, &p[j], &pm[j], &pv[j], g[j]);
    }
  }
}

static void
zero_grads (const AnoganNet *net, AnoganLayerParams *grad)
{
  for (int i = 0; i < net->n_layers; i++)
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++)
      if (grad[i].t[k])
        memset (grad[i].t[k], 0,
            anogan_layer_param_floats (&net->layers[i], k) * sizeof (float));
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
  const int B = t->options.batch;
  const AnoganShape *in = &model->input;
  AnoganTrainStats s;
  const float *fake;

  openblas_set_num_threads (t->options.threads > 0 ? t->options.threads
      : (int) g_get_num_processors ());
  anogan_nchw_to_cnhw (real, t->real, B, in->dims[0],
      (gsize) in->dims[1] * in->dims[2]);
  anogan_nchw_to_cnhw (z, t->z, B, model->nz, 1);

  /* D's step: real against 1, G(z) against 0. */
  zero_grads (d, t->d_grad);
  s.d_loss = discriminate (t, t->real, 1, TRUE, NULL, &s.d_real);
  fake = anogan_net_forward (g, t->g_ws, B, t->z);
  anogan_net_update_running_stats (g, t->g_ws);
  s.d_loss += discriminate (t, fake, 0, TRUE, NULL, &s.d_fake);
  adam_net (t, d, t->d_grad, t->d_m, t->d_v);

  /* G's step: G(z) against 1 through the updated D. */
  zero_grads (g, t->g_grad);
  s.g_loss = discriminate (t, fake, 1, FALSE, t->dfake, NULL);
  anogan_net_backward (g, t->g_ws, t->dfake, NULL, t->g_grad);
  adam_net (t, g, t->g_grad, t->g_m, t->g_v);

  t->step++;
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
  g_return_if_fail (trainer->patches != NULL);

  draw_batch (trainer);
  anogan_trainer_step_with (trainer, trainer->real_nchw, trainer->z_rows,
      stats);
}

/* ---- Checkpoints ---- */

static char *
checkpoint_json (const AnoganTrainer *t)
{
  const AnoganTrainOptions *o = &t->options;
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  JsonObject *obj = json_object_new ();
  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, o->seed);
  g_autofree char *checksum = g_strdup_printf ("%016" G_GINT64_MODIFIER "x",
      t->data_checksum);

  json_object_set_int_member (obj, "version", CHECKPOINT_VERSION);
  json_object_set_int_member (obj, "step", t->step);
  json_object_set_int_member (obj, "batch", o->batch);
  json_object_set_double_member (obj, "learning_rate", o->learning_rate);
  json_object_set_double_member (obj, "beta1", o->beta1);
  json_object_set_double_member (obj, "beta2", o->beta2);
  /* As a string: JSON numbers lose 64-bit integers in many readers. */
  json_object_set_string_member (obj, "seed", seed);
  json_object_set_int_member (obj, "augment", o->augment);
  json_object_set_int_member (obj, "data_patches", t->n_patches);
  json_object_set_string_member (obj, "data_checksum", checksum);
  json_node_take_object (root, obj);
  return json_to_string (root, FALSE);
}

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
  gint64 shape[1] = { (gint64) total };
  g_autoptr (AnoganSafetensorsWriter) w =
      anogan_model_writer_new (trainer->model);
  g_autofree char *json = checkpoint_json (trainer);

  anogan_safetensors_writer_set_metadata (w, CHECKPOINT_KEY, json);
  anogan_safetensors_writer_add_f32 (w, ANOGAN_MODEL_TRAINER_PREFIX
      "adam_m", 1, shape, trainer->block + total);
  anogan_safetensors_writer_add_f32 (w, ANOGAN_MODEL_TRAINER_PREFIX
      "adam_v", 1, shape, trainer->block + 2 * total);
  return anogan_safetensors_writer_save (w, path, error);
}

static gboolean
checkpoint_error (GError **error, const char *path, const char *what)
{
  g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA,
      "%s: not a usable training checkpoint: %s", path, what);
  return FALSE;
}

static gboolean
read_checkpoint_json (const char *text, const char *path,
    AnoganTrainOptions *o, gint64 *step, guint64 *checksum, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj;
  const char *seed, *sum;
  char *end;

  if (text == NULL)
    return checkpoint_error (error, path, "no " CHECKPOINT_KEY " metadata");
  if (!json_parser_load_from_data (parser, text, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return checkpoint_error (error, path, CHECKPOINT_KEY " is not a JSON "
        "object");
  obj = json_node_get_object (json_parser_get_root (parser));
  if (json_object_get_int_member_with_default (obj, "version", 0)
      != CHECKPOINT_VERSION)
    return checkpoint_error (error, path, "unknown version");

  o->batch = json_object_get_int_member_with_default (obj, "batch", 0);
  o->learning_rate = json_object_get_double_member_with_default (obj,
      "learning_rate", 0.0);
  o->beta1 = json_object_get_double_member_with_default (obj, "beta1", -1);
  o->beta2 = json_object_get_double_member_with_default (obj, "beta2", -1);
  o->augment = json_object_get_int_member_with_default (obj, "augment", 0);
  *step = json_object_get_int_member_with_default (obj, "step", -1);
  seed = json_object_get_string_member_with_default (obj, "seed", "");
  sum = json_object_get_string_member_with_default (obj, "data_checksum",
      "");

  o->seed = g_ascii_strtoull (seed, &end, 10);
  if (*seed == '\0' || *end != '\0')
    return checkpoint_error (error, path, "bad seed");
  *checksum = g_ascii_strtoull (sum, &end, 16);
  if (*sum == '\0' || *end != '\0')
    return checkpoint_error (error, path, "bad data_checksum");
  if (*step < 0)
    return checkpoint_error (error, path, "bad step");
  return TRUE;
}

static gboolean
read_moment (const AnoganSafetensors *st, const char *path, const char *name,
    float *out, gsize n, GError **error)
{
  const AnoganTensorInfo *info = anogan_safetensors_lookup (st, name);

  if (info == NULL || strcmp (info->dtype, "F32") != 0 || info->rank != 1
      || info->shape[0] != (gint64) n || !anogan_tensor_read_f32 (info, out,
          n)) {
    g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_TENSOR,
        "%s: tensor '%s' missing or not F32 [%" G_GSIZE_FORMAT "]", path,
        name, n);
    return FALSE;
  }
  return TRUE;
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
  AnoganTrainOptions options;
  gint64 step;
  guint64 checksum;
  g_autoptr (GError) io_error = NULL;

  g_return_val_if_fail (checkpoint != NULL, NULL);

  AnoganModel *model = anogan_model_load (checkpoint, error);
  if (model == NULL)
    return NULL;

  /* The model loader checked the container; read it again for the
   * trainer's part. */
  g_autoptr (GMappedFile) mapping = g_mapped_file_new (checkpoint, FALSE,
      &io_error);
  g_autoptr (GBytes) bytes = mapping ? g_mapped_file_get_bytes (mapping)
      : NULL;
  g_autoptr (AnoganSafetensors) st = bytes ? anogan_safetensors_parse (bytes,
      checkpoint, error) : NULL;
  if (st == NULL) {
    if (io_error)
      g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_IO,
          "%s: %s", checkpoint, io_error->message);
    anogan_model_free (model);
    return NULL;
  }

  anogan_train_options_init (&options);
  options.threads = threads;
  if (!read_checkpoint_json (anogan_safetensors_metadata (st,
              CHECKPOINT_KEY), checkpoint, &options, &step, &checksum,
          error)) {
    anogan_model_free (model);
    return NULL;
  }

  g_autoptr (AnoganTrainer) t = anogan_trainer_new (model, &options, error);
  if (t == NULL)
    return NULL;
  gsize total = anogan_model_param_floats (t->model);
  if (!read_moment (st, checkpoint, ANOGAN_MODEL_TRAINER_PREFIX "adam_m",
          t->block + total, total, error)
      || !read_moment (st, checkpoint, ANOGAN_MODEL_TRAINER_PREFIX "adam_v",
          t->block + 2 * total, total, error))
    return NULL;
  t->step = step;
  t->data_checksum = checksum;
  t->expect_checksum = TRUE;
  return g_steal_pointer (&t);
}
