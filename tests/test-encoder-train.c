/* test-encoder-train.c: the encoder trainer (f-AnoGAN, izi_f)
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tests/golden/make-golden-encoder.py takes three steps of izi_f encoder
 * training in PyTorch (float64) on a small DCGAN with the default
 * encoder, two more with the squared residual and two with an encoder
 * that reads the discriminator's features; here the trainer takes
 * the same steps from the same start, and every loss, gradient, parameter
 * and running statistic of E is compared, while G and D must not change
 * by a bit.  Then what PyTorch cannot tell us: that E learns to give the
 * search a start it agrees with, determinism, checkpoints that resume bit
 * for bit, and errors.
 */
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anogan-encoder-train.h"
#include "anogan-search.h"
#include "anogan-test-util.h"

/* max |got - want| / max |want| per tensor, as for the GAN trainer: the
 * engine is within a few 1e-6 of the float64 reference here (run with
 * --verbose), the float32 rounding of three networks in a row, and the
 * reference's batches keep every sign the loss takes clear of zero, so a
 * wrong gradient anywhere shows as an error of order 1. */
#define TOLERANCE 1e-4

typedef struct {
  AnoganTestGolden *file;
  int batch;
  double learning_rate, beta1, beta2;
} Golden;

static const char *
golden_metadata (Golden *g, const char *key)
{
  return anogan_test_golden_metadata (g->file, key);
}

static Golden *
golden_open (void)
{
  Golden *g = g_new0 (Golden, 1);

  g->file = anogan_test_golden_open ("encoder16/golden.safetensors");
  g->batch = atoi (golden_metadata (g, "batch"));
  g->learning_rate = g_ascii_strtod (golden_metadata (g, "learning_rate"),
      NULL);
  g->beta1 = g_ascii_strtod (golden_metadata (g, "beta1"), NULL);
  g->beta2 = g_ascii_strtod (golden_metadata (g, "beta2"), NULL);
  return g;
}

static void
golden_close (Golden *g)
{
  anogan_test_golden_free (g->file);
  g_free (g);
}

static float *
golden_get (Golden *g, const char *name, gsize n)
{
  return anogan_test_golden_get (g->file, name, n);
}

static AnoganModel *
load_encoder16 (void)
{
  g_autofree char *path =
      anogan_test_data_path ("encoder16/model.safetensors");
  GError *error = NULL;
  AnoganModel *model = anogan_model_load (path, &error);

  g_assert_no_error (error);
  g_assert_true (anogan_model_has_encoder (model));
  return model;
}

/* G's and D's tensors, which come first in model->storage. */
static gsize
gan_floats (const AnoganModel *model)
{
  return anogan_net_param_floats (&model->generator)
      + anogan_net_param_floats (&model->discriminator);
}

static float *
copy_gan (AnoganModel *model)
{
  GError *error = NULL;

  g_assert_true (anogan_model_make_writable (model, &error));
  g_assert_no_error (error);
  return g_memdup2 (model->storage, gan_floats (model) * sizeof (float));
}

static const float *
encoder_storage (const AnoganModel *model)
{
  return model->storage + gan_floats (model);
}

/* ---- Against PyTorch ---- */

typedef struct {
  Golden *golden;
  const char *stem;             /* "" or "l2." */
  int step;
  gboolean last;
  const float *params;          /* E's, in their layout */
  const float *grads;
  int compared;
} StepCheck;

/* Each of E's tensors, with its state_dict name and kind, in the layout
 * of anogan_net_bind_params(). */
static void
check_step (StepCheck *c, const AnoganNet *e)
{
  gsize offset = 0;

  for (int i = 0; i < e->n_layers; i++) {
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
      gsize n = anogan_layer_param_floats (&e->layers[i], k);

      if (n == 0)
        continue;
      /* The gradients of what Adam trains after every step, every tensor
       * after the last. */
      for (int pass = 0; pass < 2; pass++) {
        gboolean trained = k == ANOGAN_PARAM_WEIGHT
            || k == ANOGAN_PARAM_BIAS;
        const float *got = pass == 0 ? c->grads : c->params;
        g_autofree char *name = NULL;
        g_autofree float *want = NULL;

        if (pass == 0 ? !trained : !c->last)
          continue;
        name = g_strdup_printf ("%sstep%d.%sencoder.%d.%s", c->stem,
            c->step, pass == 0 ? "grad." : "", i, anogan_param_names[k]);
        want = golden_get (c->golden, name, n);
        anogan_test_assert_close (name, got + offset, want, n, TOLERANCE);
        c->compared++;
      }
      offset += n;
    }
  }
}

static void
check_stat (Golden *g, const char *stem, int step, const char *what,
    double got)
{
  g_autofree char *name = g_strdup_printf ("%sstep%d.%s", stem, step, what);
  g_autofree float *want = golden_get (g, name, 1);
  float value = (float) got;

  anogan_test_assert_close (name, &value, want, 1, TOLERANCE);
}

/* The tensors of @net that Adam trains, and all of them. */
static void
count_tensors (const AnoganNet *net, int *trained, int *all)
{
  *trained = *all = 0;
  for (int i = 0; i < net->n_layers; i++) {
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
      if (anogan_layer_param_floats (&net->layers[i], k) == 0)
        continue;
      *all += 1;
      *trained += k == ANOGAN_PARAM_WEIGHT || k == ANOGAN_PARAM_BIAS;
    }
  }
}

/* encoder16 with the script's encoder of f(x) in place of its own, at
 * the script's start. */
static AnoganModel *
load_feature_encoder16 (Golden *g)
{
  g_autoptr (AnoganModel) image = load_encoder16 ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  AnoganModel *model;
  AnoganNet *e;
  GError *error = NULL;

  g_assert_true (json_parser_load_from_data (parser,
          golden_metadata (g, "feature_encoder"), -1, NULL));
  model = anogan_model_add_feature_encoder (image, json_node_get_array (
          json_parser_get_root (parser)), 1, &error);
  g_assert_no_error (error);
  g_assert_true (model->encoder_reads_features);
  e = &model->encoder;
  for (int i = 0; i < e->n_layers; i++) {
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
      gsize n = anogan_layer_param_floats (&e->layers[i], k);
      g_autofree char *name = g_strdup_printf ("features.start.encoder.%d.%s",
          i, anogan_param_names[k]);
      g_autofree float *start = n ? golden_get (g, name, n) : NULL;

      if (n)
        memcpy (e->params[i].t[k], start, n * sizeof (float));
    }
  }
  return model;
}

/* The steps PyTorch took, from the same start on the same batches. */
static void
golden_steps (AnoganResidualLoss loss, const char *stem, int steps,
    gboolean features)
{
  Golden *g = golden_open ();
  AnoganModel *model = features ? load_feature_encoder16 (g)
      : load_encoder16 ();
  g_autofree float *gan = copy_gan (model);
  int trained, all;
  AnoganEncoderTrainOptions o;
  GError *error = NULL;
  gsize image = anogan_shape_numel (&model->input);
  g_autofree char *x_name = g_strdup_printf ("%sx", stem);
  g_autofree float *x = golden_get (g, x_name, steps * g->batch * image);

  anogan_encoder_train_options_init (&o);
  o.base.batch = g->batch;
  o.base.learning_rate = g->learning_rate;
  o.base.beta1 = g->beta1;
  o.base.beta2 = g->beta2;
  o.base.threads = 1;
  o.loss = loss;
  g_autoptr (AnoganEncoderTrainer) t = anogan_encoder_trainer_new (model, &o,
      &error);
  g_assert_no_error (error);
  model = anogan_encoder_trainer_get_model (t);
  count_tensors (&model->encoder, &trained, &all);

  for (int step = 1; step <= steps; step++) {
    AnoganEncoderTrainStats stats;
    StepCheck check = { g, stem, step, step == steps,
      encoder_storage (model), anogan_encoder_trainer_get_gradients (t), 0 };

    anogan_encoder_trainer_step_with (t, x + (step - 1) * g->batch * image,
        &stats);
    g_assert_cmpint (anogan_encoder_trainer_get_step (t), ==, step);
    check_stat (g, stem, step, "loss", stats.loss);
    check_stat (g, stem, step, "residual", stats.residual);
    check_stat (g, stem, step, "discrimination", stats.discrimination);
    g_assert_cmpfloat_with_epsilon (stats.loss, (1 - model->lambda)
        * stats.residual + model->lambda * stats.discrimination, 1e-9
        * stats.loss);
    check_step (&check, &model->encoder);
    /* Every gradient; after the last step every tensor too. */
    g_assert_cmpint (check.compared, ==, trained + (step == steps ? all : 0));
  }
  /* G and D are frozen: not a bit of them moved. */
  g_assert_cmpmem (model->storage, gan_floats (model) * sizeof (float), gan,
      gan_floats (model) * sizeof (float));
  golden_close (g);
}

static void
test_golden_steps (void)
{
  golden_steps (ANOGAN_LOSS_L1, "", 3, FALSE);
}

static void
test_golden_steps_l2 (void)
{
  golden_steps (ANOGAN_LOSS_L2, "l2.", 2, FALSE);
}

static void
test_golden_steps_features (void)
{
  golden_steps (ANOGAN_LOSS_L1, "features.", 2, TRUE);
}

/* The script built its encoder as anogan_model_default_encoder() does:
 * D up to its last convolution, nz outputs. */
static void
test_default_encoder (void)
{
  g_autoptr (AnoganModel) model = load_encoder16 ();
  g_autoptr (JsonArray) want = anogan_model_default_encoder (model);
  g_autoptr (JsonNode) a = json_node_new (JSON_NODE_ARRAY);
  g_autoptr (JsonNode) b = json_node_new (JSON_NODE_ARRAY);

  json_node_set_array (a, want);
  json_node_set_array (b, json_object_get_array_member (model->metadata,
          "encoder"));
  g_assert_true (json_node_equal (a, b));
}

static void
test_defaults (void)
{
  AnoganEncoderTrainOptions o;

  anogan_encoder_train_options_init (&o);
  g_assert_cmpint (o.base.batch, ==, 64);
  g_assert_cmpfloat (o.base.learning_rate, ==, 1e-4);
  g_assert_cmpfloat (o.base.beta1, ==, 0.5);
  g_assert_cmpfloat (o.base.beta2, ==, 0.999);
  g_assert_cmpint (o.base.augment, ==, 0);
  g_assert_cmpint (o.loss, ==, ANOGAN_LOSS_L1);
}

/* ---- Runs on generated data ---- */

/* Patches G can draw exactly: G(z) for z from N(0, 1).  An encoder that
 * inverts G gives each a loss of 0. */
static float *
make_drawable (AnoganModel *model, int n, guint64 seed)
{
  const AnoganNet *g = &model->generator;
  const AnoganShape *in = &model->input;
  g_autofree float *z = g_new (float, (gsize) n * model->nz);
  float *patches = g_new (float, (gsize) n * anogan_shape_numel (in));
  AnoganNetWorkspace *ws = anogan_net_workspace_new (g, g->n_layers, n,
      ANOGAN_NET_INFERENCE);
  guint64 rng = anogan_test_rng (seed);

  for (int i = 0; i < n * model->nz; i++) {
    /* Box-Muller */
    double u1 = 1.0 - anogan_test_uniform (&rng, 0.0f, 1.0f);
    double u2 = anogan_test_uniform (&rng, 0.0f, 1.0f);
    z[i] = (float) (sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2));
  }
  anogan_cnhw_to_nchw (anogan_net_forward (g, ws, n, z), patches, n,
      in->dims[0], (gsize) in->dims[1] * in->dims[2]);
  anogan_net_workspace_free (ws);
  return patches;
}

/* The mean score the search gives @patches in @mode: the loss at E(x)
 * for the encoder mode, after no step from the origin for the optimising
 * mode. */
static double
mean_score (const AnoganModel *model, AnoganMode mode, int n,
    const float *patches)
{
  AnoganSearchOptions o;
  g_autofree AnoganPatchResult *results = g_new (AnoganPatchResult, n);
  AnoganSearchOutputs out = { .results = results };
  GError *error = NULL;
  double sum = 0.0;

  anogan_search_options_init (&o);
  anogan_search_options_set_mode (&o, mode, 0);
  o.threads = 1;
  g_autoptr (AnoganSearch) s = anogan_search_new (model, &o, &error);
  g_assert_no_error (error);
  g_assert_true (anogan_search_run (s, n, patches, NULL, &out, &error));
  g_assert_no_error (error);
  for (int i = 0; i < n; i++)
    sum += results[i].score;
  return sum / n;
}

static AnoganEncoderTrainer *
new_trainer_lr (guint64 seed, guint augment, const float *patches, int n,
    int batch, double learning_rate)
{
  AnoganEncoderTrainOptions o;
  GError *error = NULL;
  AnoganEncoderTrainer *t;

  anogan_encoder_train_options_init (&o);
  o.base.batch = batch;
  o.base.learning_rate = learning_rate;
  o.base.threads = 1;
  o.base.seed = seed;
  o.base.augment = augment;
  t = anogan_encoder_trainer_new (load_encoder16 (), &o, &error);
  g_assert_no_error (error);
  g_assert_true (anogan_encoder_trainer_set_data (t, n, patches, &error));
  g_assert_no_error (error);
  return t;
}

static AnoganEncoderTrainer *
new_trainer (guint64 seed, guint augment, const float *patches, int n)
{
  return new_trainer_lr (seed, augment, patches, n, 8, 1e-4);
}

static void
run_steps (AnoganEncoderTrainer *t, int steps)
{
  for (int i = 0; i < steps; i++)
    anogan_encoder_trainer_step (t, NULL);
}

static gboolean
same_params (AnoganEncoderTrainer *a, AnoganEncoderTrainer *b)
{
  AnoganModel *ma = anogan_encoder_trainer_get_model (a);
  AnoganModel *mb = anogan_encoder_trainer_get_model (b);

  return memcmp (ma->storage, mb->storage,
      anogan_model_param_floats (ma) * sizeof (float)) == 0;
}

/* What training is for: on patches G draws, E learns to give z whose
 * G(z) is close, so the encoder mode's score (the search's loss at E(x),
 * E in eval mode) falls, from above the origin's to far below it. */
static void
test_learns (void)
{
  const int n = 256;
  g_autoptr (AnoganModel) source = load_encoder16 ();
  g_autofree float *data = make_drawable (source, n, 5);
  g_autoptr (AnoganEncoderTrainer) t = new_trainer_lr (1, 0, data, n, 16,
      1e-3);
  AnoganModel *model = anogan_encoder_trainer_get_model (t);
  double origin = mean_score (model, ANOGAN_MODE_OPTIMISE, n, data);
  double before = mean_score (model, ANOGAN_MODE_ENCODER, n, data);
  double after;
  AnoganEncoderTrainStats first, last;

  anogan_encoder_trainer_step (t, &first);
  run_steps (t, 318);
  anogan_encoder_trainer_step (t, &last);
  after = mean_score (model, ANOGAN_MODE_ENCODER, n, data);
  g_test_message ("mean score: %.2f from the origin; %.2f at E(x) before "
      "training, %.2f after 20 epochs (batch loss %.2f, then %.2f)",
      origin, before, after, first.loss, last.loss);
  g_assert_true (isfinite (after));
  g_assert_cmpfloat (last.loss, <, 0.5 * first.loss);
  g_assert_cmpfloat (after, <, 0.5 * before);
  g_assert_cmpfloat (after, <, 0.5 * origin);
}

static void
test_deterministic (void)
{
  g_autoptr (AnoganModel) source = load_encoder16 ();
  g_autofree float *data = make_drawable (source, 40, 1);
  g_autoptr (AnoganEncoderTrainer) a = new_trainer (5, ANOGAN_AUGMENT_HFLIP
      | ANOGAN_AUGMENT_ROT90, data, 40);
  g_autoptr (AnoganEncoderTrainer) b = new_trainer (5, ANOGAN_AUGMENT_HFLIP
      | ANOGAN_AUGMENT_ROT90, data, 40);
  g_autoptr (AnoganEncoderTrainer) c = new_trainer (6, ANOGAN_AUGMENT_HFLIP
      | ANOGAN_AUGMENT_ROT90, data, 40);
  g_autofree float *gan = copy_gan (source);

  /* 40 patches make 5 batches: 12 steps cross two epoch boundaries. */
  g_assert_cmpint (anogan_encoder_trainer_steps_per_epoch (a), ==, 5);
  run_steps (a, 12);
  run_steps (b, 12);
  run_steps (c, 12);
  g_assert_true (same_params (a, b));
  g_assert_false (same_params (a, c));
  g_assert_cmpmem (anogan_encoder_trainer_get_model (c)->storage,
      gan_floats (source) * sizeof (float), gan,
      gan_floats (source) * sizeof (float));
}

static void
test_checkpoint_resume (void)
{
  g_autoptr (AnoganModel) source = load_encoder16 ();
  g_autofree float *data = make_drawable (source, 40, 2);
  g_autoptr (AnoganEncoderTrainer) straight = new_trainer (9,
      ANOGAN_AUGMENT_VFLIP, data, 40);
  g_autoptr (AnoganEncoderTrainer) first = new_trainer (9,
      ANOGAN_AUGMENT_VFLIP, data, 40);
  g_autofree char *dir = g_dir_make_tmp ("anogan-encoder-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "run.ckpt", NULL);
  GError *error = NULL;

  run_steps (straight, 13);
  run_steps (first, 7);
  g_assert_true (anogan_encoder_trainer_save_checkpoint (first, path,
          &error));
  g_assert_no_error (error);

  /* The checkpoint is a model file too, with the encoder as trained. */
  {
    g_autoptr (AnoganModel) as_model = anogan_model_load (path, &error);
    AnoganModel *trained = anogan_encoder_trainer_get_model (first);
    gsize n = anogan_model_param_floats (trained);
    g_autofree float *copy = NULL;

    g_assert_no_error (error);
    g_assert_true (anogan_model_has_encoder (as_model));
    g_assert_true (anogan_model_make_writable (as_model, &error));
    copy = g_memdup2 (as_model->storage, n * sizeof (float));
    g_assert_cmpmem (copy, n * sizeof (float), trained->storage,
        n * sizeof (float));
  }

  /* The GAN trainer does not take it for one of its own. */
  g_assert_null (anogan_trainer_resume (path, 1, &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA);
  g_assert_nonnull (strstr (error->message, "no anogan_train metadata"));
  g_clear_error (&error);

  {
    g_autoptr (AnoganEncoderTrainer) resumed =
        anogan_encoder_trainer_resume (path, 1, &error);
    const AnoganEncoderTrainOptions *o;

    g_assert_no_error (error);
    o = anogan_encoder_trainer_get_options (resumed);
    g_assert_cmpint (anogan_encoder_trainer_get_step (resumed), ==, 7);
    g_assert_cmpuint (o->base.seed, ==, 9);
    g_assert_cmpuint (o->base.augment, ==, ANOGAN_AUGMENT_VFLIP);
    g_assert_cmpint (o->base.batch, ==, 8);
    g_assert_cmpfloat (o->base.learning_rate, ==, 1e-4);
    g_assert_cmpint (o->loss, ==, ANOGAN_LOSS_L1);

    /* Other data are refused; the same data continue bit for bit. */
    g_assert_false (anogan_encoder_trainer_set_data (resumed, 39, data,
            &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_clear_error (&error);
    g_assert_true (anogan_encoder_trainer_set_data (resumed, 40, data,
            &error));
    run_steps (resumed, 6);
    g_assert_true (same_params (straight, resumed));
  }

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_errors (void)
{
  g_autofree char *model_path =
      anogan_test_data_path ("encoder16/model.safetensors");
  g_autofree char *gan_path =
      anogan_test_data_path ("train16/model.safetensors");
  AnoganEncoderTrainOptions o;
  GError *error = NULL;
  AnoganModel *gan;

  /* A model file is no checkpoint: the message names the file and the
   * metadata it lacks. */
  g_assert_null (anogan_encoder_trainer_resume (model_path, 1, &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA);
  g_assert_nonnull (strstr (error->message, model_path));
  g_assert_nonnull (strstr (error->message, "anogan_encoder_train"));
  g_clear_error (&error);

  /* A model without an encoder has nothing to train. */
  anogan_encoder_train_options_init (&o);
  gan = anogan_model_load (gan_path, &error);
  g_assert_no_error (error);
  g_assert_null (anogan_encoder_trainer_new (gan, &o, &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA);
  g_assert_nonnull (strstr (error->message, "no encoder"));
  g_clear_error (&error);

  /* Bad options, as for the GAN trainer, and an unknown loss. */
  o.base.batch = 1;
  g_assert_null (anogan_encoder_trainer_new (load_encoder16 (), &o, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  anogan_encoder_train_options_init (&o);
  o.loss = (AnoganResidualLoss) 7;
  g_assert_null (anogan_encoder_trainer_new (load_encoder16 (), &o, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/encoder-train/golden-steps", test_golden_steps);
  g_test_add_func ("/encoder-train/golden-steps-l2", test_golden_steps_l2);
  g_test_add_func ("/encoder-train/golden-steps-features",
      test_golden_steps_features);
  g_test_add_func ("/encoder-train/default-encoder", test_default_encoder);
  g_test_add_func ("/encoder-train/defaults", test_defaults);
  g_test_add_func ("/encoder-train/learns", test_learns);
  g_test_add_func ("/encoder-train/deterministic", test_deterministic);
  g_test_add_func ("/encoder-train/checkpoint-resume",
      test_checkpoint_resume);
  g_test_add_func ("/encoder-train/errors", test_errors);
  return g_test_run ();
}
