/* anogan-train-common.c: what the GAN and the encoder trainers share
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Everything random (the order of the patches in an epoch, their
 * augmentation) is a function of the seed and the step number, so a run
 * resumed from a checkpoint continues bit for bit.
 */
#include "anogan-train-common.h"
#include "anogan-adam.h"
#include "anogan-json-check.h"
#include "anogan-random.h"

#include <cblas.h>
#include <gio/gio.h>
#include <string.h>

#define ADAM_EPS 1e-8
#define CHECKPOINT_VERSION 1

gboolean
anogan_train_check_options (const AnoganTrainOptions *o, GError **error)
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

guint64
anogan_train_stream_seed (guint64 seed, guint64 stream, guint64 index)
{
  guint64 s = seed ^ (stream * 0xD1B54A32D192ED03ull);

  s = anogan_random_next (&s) ^ index;
  return anogan_random_next (&s);
}

void
anogan_train_run_init (AnoganTrainRun *run, const AnoganTrainOptions *options,
    const AnoganShape *input)
{
  memset (run, 0, sizeof *run);
  run->options = *options;
  run->input = *input;
  run->order_epoch = -1;
}

void
anogan_train_run_clear (AnoganTrainRun *run)
{
  g_clear_pointer (&run->order, g_free);
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

/* The data of a run: at least one whole batch, and when resumed the very
 * patches it was trained on. */
gboolean
anogan_train_run_set_data (AnoganTrainRun *run, gsize n_patches,
    const float *patches, GError **error)
{
  gsize numel = anogan_shape_numel (&run->input);
  guint64 checksum;

  if (n_patches < (gsize) run->options.batch || n_patches > G_MAXUINT32) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%" G_GSIZE_FORMAT " training patches: at least one batch of %d "
        "and at most %u are needed", n_patches, run->options.batch,
        G_MAXUINT32);
    return FALSE;
  }
  checksum = checksum_floats (patches, n_patches * numel);
  if (run->expect_checksum && checksum != run->data_checksum) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
        "the training data differ from those the checkpoint was trained "
        "on (%" G_GSIZE_FORMAT " patches); a resumed run must see the same "
        "patches", n_patches);
    return FALSE;
  }
  run->n_patches = n_patches;
  run->patches = patches;
  run->data_checksum = checksum;
  run->order = g_renew (guint32, run->order, n_patches);
  run->order_epoch = -1;
  return TRUE;
}

gint64
anogan_train_run_steps_per_epoch (const AnoganTrainRun *run)
{
  return (gint64) (run->n_patches / run->options.batch);
}

/* The order of the patches in @epoch: a Fisher-Yates shuffle seeded by
 * the epoch alone. */
static void
shuffle_epoch (AnoganTrainRun *run, gint64 epoch)
{
  guint64 rng = anogan_train_stream_seed (run->options.seed,
      ANOGAN_TRAIN_STREAM_ORDER, epoch);

  for (gsize i = 0; i < run->n_patches; i++)
    run->order[i] = i;
  for (gsize i = run->n_patches - 1; i > 0; i--) {
    gsize j = anogan_random_next (&rng) % (i + 1);
    guint32 tmp = run->order[i];
    run->order[i] = run->order[j];
    run->order[j] = tmp;
  }
  run->order_epoch = epoch;
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

/* The patches of the current step, augmented, into @batch (NCHW). */
void
anogan_train_run_draw (AnoganTrainRun *run, float *batch)
{
  const AnoganShape *in = &run->input;
  const int B = run->options.batch;
  const int C = in->dims[0], H = in->dims[1], W = in->dims[2];
  gsize numel = anogan_shape_numel (in);
  gint64 per_epoch = anogan_train_run_steps_per_epoch (run);
  gint64 epoch = run->step / per_epoch;
  gsize first = (gsize) (run->step % per_epoch) * B;
  guint64 rng = anogan_train_stream_seed (run->options.seed,
      ANOGAN_TRAIN_STREAM_AUGMENT, run->step);
  guint aug = run->options.augment;

  if (epoch != run->order_epoch)
    shuffle_epoch (run, epoch);
  for (int b = 0; b < B; b++) {
    guint64 r = anogan_random_next (&rng);
    int turns = (aug & ANOGAN_AUGMENT_ROT90) && H == W ? (r >> 2) & 3 : 0;

    copy_augmented (run->patches + run->order[first + b] * numel,
        batch + b * numel, C, H, W, turns,
        (aug & ANOGAN_AUGMENT_HFLIP) && (r & 1),
        (aug & ANOGAN_AUGMENT_VFLIP) && (r & 2));
  }
}

/* OpenBLAS partitions its work by the thread count, so a run is
 * deterministic for a given count; set before every step, as other code
 * in the process (a search) may have changed it. */
void
anogan_train_run_set_threads (const AnoganTrainRun *run)
{
  openblas_set_num_threads (run->options.threads > 0 ? run->options.threads
      : (int) g_get_num_processors ());
}

void
anogan_train_zero_grads (const AnoganNet *net, AnoganLayerParams *grad)
{
  for (int i = 0; i < net->n_layers; i++)
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++)
      if (grad[i].t[k])
        memset (grad[i].t[k], 0,
            anogan_layer_param_floats (&net->layers[i], k) * sizeof (float));
}

/* One Adam step, as torch.optim.Adam takes it, on @net's weights and
 * biases; the step number is the run's, counted from 1. */
void
anogan_train_adam_net (const AnoganTrainRun *run, AnoganNet *net,
    AnoganLayerParams *grad, AnoganLayerParams *m, AnoganLayerParams *v)
{
  const AnoganAdamStep adam = anogan_adam_step_new (
      run->options.learning_rate, run->options.beta1, run->options.beta2,
      ADAM_EPS, run->step + 1);
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

/* ---- Checkpoints ---- */

/* The record of the run a checkpoint carries; a trainer adds its own
 * members before saving. */
JsonObject *
anogan_train_run_to_json (const AnoganTrainRun *run)
{
  const AnoganTrainOptions *o = &run->options;
  JsonObject *obj = json_object_new ();
  g_autofree char *seed = g_strdup_printf ("%" G_GUINT64_FORMAT, o->seed);
  g_autofree char *checksum = g_strdup_printf ("%016" G_GINT64_MODIFIER "x",
      run->data_checksum);

  json_object_set_int_member (obj, "version", CHECKPOINT_VERSION);
  json_object_set_int_member (obj, "step", run->step);
  json_object_set_int_member (obj, "batch", o->batch);
  json_object_set_double_member (obj, "learning_rate", o->learning_rate);
  json_object_set_double_member (obj, "beta1", o->beta1);
  json_object_set_double_member (obj, "beta2", o->beta2);
  /* As a string: JSON numbers lose 64-bit integers in many readers. */
  json_object_set_string_member (obj, "seed", seed);
  json_object_set_int_member (obj, "augment", o->augment);
  json_object_set_int_member (obj, "data_patches", run->n_patches);
  json_object_set_string_member (obj, "data_checksum", checksum);
  return obj;
}

/* Writes @model with Adam's moments @m and @v (@n floats each) as tensors
 * `trainer.adam_m` and `trainer.adam_v` and @state, which it takes, as
 * the metadata @key.  The file is replaced atomically. */
gboolean
anogan_train_save_checkpoint (const AnoganModel *model, const char *path,
    const char *key, JsonObject *state, const float *m, const float *v,
    gsize n, GError **error)
{
  gint64 shape[1] = { (gint64) n };
  g_autoptr (AnoganSafetensorsWriter) w = anogan_model_writer_new (model);
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *json = NULL;

  json_node_take_object (root, state);
  json = json_to_string (root, FALSE);
  anogan_safetensors_writer_set_metadata (w, key, json);
  anogan_safetensors_writer_add_f32 (w, ANOGAN_MODEL_TRAINER_PREFIX
      "adam_m", 1, shape, m);
  anogan_safetensors_writer_add_f32 (w, ANOGAN_MODEL_TRAINER_PREFIX
      "adam_v", 1, shape, v);
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
read_state (AnoganTrainCheckpoint *c, const char *key, GError **error)
{
  const char *text = anogan_safetensors_metadata (c->st, key);
  g_autoptr (JsonParser) parser = json_parser_new ();
  AnoganTrainOptions *o = &c->options;
  JsonObject *obj;
  const char *seed, *sum;
  char *end;

  if (text == NULL) {
    g_autofree char *what = g_strdup_printf ("no %s metadata", key);
    return checkpoint_error (error, c->path, what);
  }
  /* As a model's description: json-glib leaks on some malformed texts. */
  g_autofree char *problem = anogan_json_check (text, strlen (text), key);
  if (problem != NULL)
    return checkpoint_error (error, c->path, problem);
  if (!json_parser_load_from_data (parser, text, -1, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_autofree char *what = g_strdup_printf ("%s is not a JSON object", key);
    return checkpoint_error (error, c->path, what);
  }
  obj = c->state = json_object_ref (json_node_get_object (
          json_parser_get_root (parser)));
  if (json_object_get_int_member_with_default (obj, "version", 0)
      != CHECKPOINT_VERSION)
    return checkpoint_error (error, c->path, "unknown version");

  o->batch = json_object_get_int_member_with_default (obj, "batch", 0);
  o->learning_rate = json_object_get_double_member_with_default (obj,
      "learning_rate", 0.0);
  o->beta1 = json_object_get_double_member_with_default (obj, "beta1", -1);
  o->beta2 = json_object_get_double_member_with_default (obj, "beta2", -1);
  o->augment = json_object_get_int_member_with_default (obj, "augment", 0);
  c->step = json_object_get_int_member_with_default (obj, "step", -1);
  seed = json_object_get_string_member_with_default (obj, "seed", "");
  sum = json_object_get_string_member_with_default (obj, "data_checksum",
      "");

  o->seed = g_ascii_strtoull (seed, &end, 10);
  if (*seed == '\0' || *end != '\0')
    return checkpoint_error (error, c->path, "bad seed");
  c->data_checksum = g_ascii_strtoull (sum, &end, 16);
  if (*sum == '\0' || *end != '\0')
    return checkpoint_error (error, c->path, "bad data_checksum");
  if (c->step < 0)
    return checkpoint_error (error, c->path, "bad step");
  return TRUE;
}

/* Opens @path for resuming: the model, and the run recorded under the
 * metadata @key; the options' thread count is @threads. */
gboolean
anogan_train_checkpoint_open (AnoganTrainCheckpoint *c, const char *path,
    const char *key, int threads, GError **error)
{
  g_autoptr (GError) io_error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  memset (c, 0, sizeof *c);
  c->path = path;
  anogan_train_options_init (&c->options);
  c->options.threads = threads;
  c->model = anogan_model_load (path, error);
  if (c->model == NULL)
    return FALSE;

  /* The model loader checked the container; read it again for the
   * trainer's part. */
  c->mapping = g_mapped_file_new (path, FALSE, &io_error);
  if (c->mapping == NULL) {
    g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_IO,
        "%s: %s", path, io_error->message);
    return FALSE;
  }
  bytes = g_mapped_file_get_bytes (c->mapping);
  c->st = anogan_safetensors_parse (bytes, path, error);
  return c->st != NULL && read_state (c, key, error);
}

static gboolean
read_moment (const AnoganTrainCheckpoint *c, const char *name, float *out,
    gsize n, GError **error)
{
  const AnoganTensorInfo *info = anogan_safetensors_lookup (c->st, name);

  if (info == NULL || strcmp (info->dtype, "F32") != 0 || info->rank != 1
      || info->shape[0] != (gint64) n || !anogan_tensor_read_f32 (info, out,
          n)) {
    g_set_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_TENSOR,
        "%s: tensor '%s' missing or not F32 [%" G_GSIZE_FORMAT "]", c->path,
        name, n);
    return FALSE;
  }
  return TRUE;
}

gboolean
anogan_train_checkpoint_read_moments (const AnoganTrainCheckpoint *c,
    float *m, float *v, gsize n, GError **error)
{
  return read_moment (c, ANOGAN_MODEL_TRAINER_PREFIX "adam_m", m, n, error)
      && read_moment (c, ANOGAN_MODEL_TRAINER_PREFIX "adam_v", v, n, error);
}

/* Frees what is left of @c: the model too, unless a trainer took it. */
void
anogan_train_checkpoint_clear (AnoganTrainCheckpoint *c)
{
  g_clear_pointer (&c->model, anogan_model_free);
  g_clear_pointer (&c->state, json_object_unref);
  g_clear_pointer (&c->st, anogan_safetensors_free);
  g_clear_pointer (&c->mapping, g_mapped_file_unref);
}

/* Puts @run where the checkpoint left it; its data must then be the
 * same. */
void
anogan_train_run_resume (AnoganTrainRun *run, const AnoganTrainCheckpoint *c)
{
  run->step = c->step;
  run->data_checksum = c->data_checksum;
  run->expect_checksum = TRUE;
}
