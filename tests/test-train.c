/* test-train.c: the GAN trainer
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tests/golden/make-golden-train.py takes three steps of PyTorch's DCGAN
 * example on a small DCGAN, in float64; here the trainer takes the same
 * steps from the same start and every loss, gradient, parameter and
 * running statistic is compared.  Then what PyTorch cannot tell us:
 * determinism, checkpoints that resume bit for bit, errors, and that
 * training learns.
 */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "anogan-train.h"
#include "anogan-test-util.h"

/* max |got - want| / max |want| per tensor, as in test-golden.c. */
#define TOLERANCE 1e-4

typedef struct {
  AnoganTestGolden *file;
  int batch, steps;
} Golden;

static Golden *
golden_open (void)
{
  Golden *g = g_new0 (Golden, 1);

  g->file = anogan_test_golden_open ("train16/golden.safetensors");
  g->batch = atoi (anogan_test_golden_metadata (g->file, "batch"));
  g->steps = atoi (anogan_test_golden_metadata (g->file, "steps"));
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
load_train16 (void)
{
  g_autofree char *path = anogan_test_data_path ("train16/model.safetensors");
  GError *error = NULL;
  AnoganModel *model = anogan_model_load (path, &error);

  g_assert_no_error (error);
  return model;
}

static void
golden_options (AnoganTrainOptions *o, int batch)
{
  anogan_train_options_init (o);
  o->batch = batch;
  o->threads = 1;
}

/* Calls @fn on every tensor of the model, with its state_dict name and
 * its offset in the layout of model->storage. */
typedef void (*TensorFunc) (const char *name, gsize offset, gsize n,
    AnoganParamKind kind, gpointer data);

static void
foreach_tensor (const AnoganModel *model, TensorFunc fn, gpointer data)
{
  const AnoganNet *nets[2] = { &model->generator, &model->discriminator };
  gsize offset = 0;

  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < nets[k]->n_layers; i++) {
      for (int p = 0; p < ANOGAN_N_PARAM_KINDS; p++) {
        gsize n = anogan_layer_param_floats (&nets[k]->layers[i], p);
        g_autofree char *name = NULL;

        if (n == 0)
          continue;
        name = g_strdup_printf ("%s.%d.%s", nets[k]->name, i,
            anogan_param_names[p]);
        fn (name, offset, n, p, data);
        offset += n;
      }
    }
  }
}

typedef struct {
  Golden *golden;
  int step;
  const float *params;
  const float *grads;
  double worst_param, worst_grad;
  int compared;
} StepCheck;

static void
check_tensor (const char *name, gsize offset, gsize n, AnoganParamKind kind,
    gpointer data)
{
  StepCheck *c = data;
  g_autofree char *param_name = g_strdup_printf ("step%d.%s", c->step, name);
  g_autofree float *want = golden_get (c->golden, param_name, n);
  double e = anogan_test_max_scaled_error (c->params + offset, want, n);

  if (g_test_verbose ())
    g_printerr ("step %d %-36s %.2e\n", c->step, name, e);
  anogan_test_assert_close (param_name, c->params + offset, want, n,
      TOLERANCE);
  c->worst_param = MAX (c->worst_param, e);

  if (kind == ANOGAN_PARAM_WEIGHT || kind == ANOGAN_PARAM_BIAS) {
    g_autofree char *grad_name = g_strdup_printf ("step%d.grad.%s",
        c->step, name);
    g_autofree float *grad = golden_get (c->golden, grad_name, n);

    anogan_test_assert_close (grad_name, c->grads + offset, grad, n,
        TOLERANCE);
    c->worst_grad = MAX (c->worst_grad,
        anogan_test_max_scaled_error (c->grads + offset, grad, n));
  }
  c->compared++;
}

static void
check_stat (Golden *g, int step, const char *what, double got)
{
  g_autofree char *name = g_strdup_printf ("step%d.%s", step, what);
  g_autofree float *want = golden_get (g, name, 1);
  float value = (float) got;

  anogan_test_assert_close (name, &value, want, 1, TOLERANCE);
}

/* Three steps from the same start, on the same batches, as PyTorch. */
static void
test_golden_steps (void)
{
  Golden *g = golden_open ();
  AnoganModel *model = load_train16 ();
  AnoganTrainOptions o;
  GError *error = NULL;
  int nz = model->nz;
  gsize image = anogan_shape_numel (&model->input);
  g_autofree float *x = golden_get (g, "x", g->steps * g->batch * image);
  g_autofree float *z = golden_get (g, "z", g->steps * g->batch * nz);

  golden_options (&o, g->batch);
  g_autoptr (AnoganTrainer) t = anogan_trainer_new (model, &o, &error);
  g_assert_no_error (error);
  model = anogan_trainer_get_model (t);

  for (int step = 1; step <= g->steps; step++) {
    AnoganTrainStats stats;
    StepCheck check = { g, step, model->storage,
      anogan_trainer_get_gradients (t), 0, 0, 0 };

    anogan_trainer_step_with (t, x + (step - 1) * g->batch * image,
        z + (step - 1) * g->batch * nz, &stats);
    g_assert_cmpint (anogan_trainer_get_step (t), ==, step);
    check_stat (g, step, "d_loss", stats.d_loss);
    check_stat (g, step, "g_loss", stats.g_loss);
    check_stat (g, step, "d_real", stats.d_real);
    check_stat (g, step, "d_fake", stats.d_fake);
    foreach_tensor (model, check_tensor, &check);
    /* Every parameter, gradient and running statistic of both nets. */
    g_assert_cmpint (check.compared, ==, 18);
    g_test_message ("step %d: parameters within %.1e, gradients within "
        "%.1e", step, check.worst_param, check.worst_grad);
  }
  golden_close (g);
}

/* ---- Runs on generated data ---- */

/* Patches of a simple normal class: a bright bar at a random height on a
 * dark ground, a little noise. */
static float *
make_bars (int n, int size, guint64 seed)
{
  float *p = g_new (float, (gsize) n * size * size);
  guint64 rng = anogan_test_rng (seed);

  for (int i = 0; i < n; i++) {
    int row = (int) anogan_test_uniform (&rng, 2, size - 4);
    for (int y = 0; y < size; y++)
      for (int x = 0; x < size; x++)
        p[((gsize) i * size + y) * size + x] =
            (y >= row && y < row + 3 ? 0.8f : -0.8f)
            + anogan_test_uniform (&rng, -0.05f, 0.05f);
  }
  return p;
}

static AnoganTrainer *
new_trainer_lr (guint64 seed, guint augment, const float *patches, int n,
    double learning_rate)
{
  AnoganModel *model = load_train16 ();
  AnoganTrainOptions o;
  GError *error = NULL;
  AnoganTrainer *t;

  golden_options (&o, 8);
  o.learning_rate = learning_rate;
  o.seed = seed;
  o.augment = augment;
  t = anogan_trainer_new (model, &o, &error);
  g_assert_no_error (error);
  g_assert_true (anogan_trainer_set_data (t, n, patches, &error));
  g_assert_no_error (error);
  return t;
}

static AnoganTrainer *
new_trainer (guint64 seed, guint augment, const float *patches, int n)
{
  return new_trainer_lr (seed, augment, patches, n, 2e-4);
}

static void
run_steps (AnoganTrainer *t, int steps)
{
  for (int i = 0; i < steps; i++)
    anogan_trainer_step (t, NULL);
}

static gboolean
same_params (AnoganTrainer *a, AnoganTrainer *b)
{
  AnoganModel *ma = anogan_trainer_get_model (a);
  AnoganModel *mb = anogan_trainer_get_model (b);

  return memcmp (ma->storage, mb->storage,
      anogan_model_param_floats (ma) * sizeof (float)) == 0;
}

static void
test_deterministic (void)
{
  g_autofree float *data = make_bars (40, 16, 1);
  g_autoptr (AnoganTrainer) a = new_trainer (5, ANOGAN_AUGMENT_HFLIP
      | ANOGAN_AUGMENT_ROT90, data, 40);
  g_autoptr (AnoganTrainer) b = new_trainer (5, ANOGAN_AUGMENT_HFLIP
      | ANOGAN_AUGMENT_ROT90, data, 40);
  g_autoptr (AnoganTrainer) c = new_trainer (6, ANOGAN_AUGMENT_HFLIP
      | ANOGAN_AUGMENT_ROT90, data, 40);

  /* 40 patches make 5 batches: 12 steps cross two epoch boundaries. */
  g_assert_cmpint (anogan_trainer_steps_per_epoch (a), ==, 5);
  run_steps (a, 12);
  run_steps (b, 12);
  run_steps (c, 12);
  g_assert_true (same_params (a, b));
  g_assert_false (same_params (a, c));
}

static void
test_checkpoint_resume (void)
{
  g_autofree float *data = make_bars (40, 16, 2);
  g_autoptr (AnoganTrainer) straight = new_trainer (9, ANOGAN_AUGMENT_VFLIP,
      data, 40);
  g_autoptr (AnoganTrainer) first = new_trainer (9, ANOGAN_AUGMENT_VFLIP,
      data, 40);
  g_autofree char *dir = g_dir_make_tmp ("anogan-train-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "run.ckpt", NULL);
  GError *error = NULL;

  run_steps (straight, 13);
  run_steps (first, 7);
  g_assert_true (anogan_trainer_save_checkpoint (first, path, &error));
  g_assert_no_error (error);

  /* The checkpoint is a model file too, with the trained weights. */
  {
    g_autoptr (AnoganModel) as_model = anogan_model_load (path, &error);
    AnoganModel *trained = anogan_trainer_get_model (first);
    gsize n = anogan_model_param_floats (trained);
    g_autofree float *copy = g_new (float, n);

    g_assert_no_error (error);
    g_assert_true (anogan_model_make_writable (as_model, &error));
    memcpy (copy, as_model->storage, n * sizeof (float));
    g_assert_cmpmem (copy, n * sizeof (float), trained->storage,
        n * sizeof (float));
  }

  {
    g_autoptr (AnoganTrainer) resumed = anogan_trainer_resume (path, 1,
        &error);
    g_assert_no_error (error);
    g_assert_cmpint (anogan_trainer_get_step (resumed), ==, 7);
    g_assert_cmpuint (anogan_trainer_get_options (resumed)->seed, ==, 9);
    g_assert_cmpuint (anogan_trainer_get_options (resumed)->augment, ==,
        ANOGAN_AUGMENT_VFLIP);

    /* Other data are refused; the same data continue bit for bit. */
    g_assert_false (anogan_trainer_set_data (resumed, 39, data, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    g_clear_error (&error);
    g_assert_true (anogan_trainer_set_data (resumed, 40, data, &error));
    run_steps (resumed, 6);
    g_assert_true (same_params (straight, resumed));
  }

  g_unlink (path);
  g_rmdir (dir);
}

/* Rewrites the safetensors file at @path with the metadata string @key
 * set to @value; the tensors' offsets, counted from the end of the header,
 * stay as they are. */
static void
set_metadata (const char *path, const char *key, const char *value)
{
  g_autofree char *bytes = NULL;
  gsize length;
  guint64 header_length;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *header = NULL;
  gsize new_length;
  g_autoptr (GByteArray) out = g_byte_array_new ();

  g_assert_true (g_file_get_contents (path, &bytes, &length, NULL));
  memcpy (&header_length, bytes, 8);
  header_length = GUINT64_FROM_LE (header_length);
  g_assert_true (json_parser_load_from_data (parser, bytes + 8,
          header_length, NULL));
  json_object_set_string_member (json_object_get_object_member
      (json_node_get_object (json_parser_get_root (parser)), "__metadata__"),
      key, value);
  json_generator_set_root (generator, json_parser_get_root (parser));
  header = json_generator_to_data (generator, &new_length);
  guint64 le = GUINT64_TO_LE ((guint64) new_length);
  g_byte_array_append (out, (const guint8 *) &le, 8);
  g_byte_array_append (out, (const guint8 *) header, new_length);
  g_byte_array_append (out, (const guint8 *) bytes + 8 + header_length,
      length - 8 - header_length);
  g_assert_true (g_file_set_contents (path, (const char *) out->data,
          out->len, NULL));
}

static void
test_bad_checkpoint (void)
{
  g_autofree char *model_path =
      anogan_test_data_path ("train16/model.safetensors");
  GError *error = NULL;
  AnoganTrainer *t = anogan_trainer_resume (model_path, 1, &error);

  /* A model without the trainer's state names the file and the lack. */
  g_assert_null (t);
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA);
  g_assert_nonnull (strstr (error->message, model_path));
  g_assert_nonnull (strstr (error->message, "anogan_train"));
  g_clear_error (&error);

  t = anogan_trainer_resume ("/nonexistent/run.ckpt", 1, &error);
  g_assert_null (t);
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_IO);
  g_clear_error (&error);

  /* The trainer's state is checked as JSON before json-glib reads it,
   * which leaks on a number followed by an object. */
  {
    g_autofree float *data = make_bars (40, 16, 2);
    g_autoptr (AnoganTrainer) first = new_trainer (9, 0,
        data, 40);
    g_autofree char *dir = g_dir_make_tmp ("anogan-train-XXXXXX", NULL);
    g_autofree char *path = g_build_filename (dir, "run.ckpt", NULL);

    g_assert_true (anogan_trainer_save_checkpoint (first, path, &error));
    g_assert_no_error (error);
    set_metadata (path, "anogan_train", "2{\"version\": 1}");
    t = anogan_trainer_resume (path, 1, &error);
    g_assert_null (t);
    g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA);
    g_assert_nonnull (strstr (error->message, path));
    g_assert_nonnull (strstr (error->message, "anogan_train is not JSON"));
    g_clear_error (&error);
    g_unlink (path);
    g_rmdir (dir);
  }
}

static void
test_bad_options (void)
{
  static const struct {
    int batch;
    double lr, beta1;
    int threads;
  } bad[] = {
    {1, 2e-4, 0.5, 1}, {8, 0.0, 0.5, 1}, {8, NAN, 0.5, 1},
    {8, 2e-4, 1.0, 1}, {8, 2e-4, 0.5, -1},
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    AnoganTrainOptions o;
    GError *error = NULL;

    golden_options (&o, bad[i].batch);
    o.learning_rate = bad[i].lr;
    o.beta1 = bad[i].beta1;
    o.threads = bad[i].threads;
    g_assert_null (anogan_trainer_new (load_train16 (), &o, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
}

static void
test_too_little_data (void)
{
  g_autofree float *data = make_bars (7, 16, 3);
  AnoganTrainOptions o;
  GError *error = NULL;

  golden_options (&o, 8);
  g_autoptr (AnoganTrainer) t = anogan_trainer_new (load_train16 (), &o,
      &error);
  g_assert_no_error (error);
  g_assert_false (anogan_trainer_set_data (t, 7, data, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
}

static void
test_needs_sigmoid (void)
{
  static const char *description =
      "{\"version\":1,\"input\":[1,4,4],\"nz\":2,"
      "\"generator\":[{\"type\":\"Linear\",\"in_features\":2,"
      "\"out_features\":16},{\"type\":\"Unflatten\",\"dim\":1,"
      "\"unflattened_size\":[1,4,4]},{\"type\":\"Tanh\"}],"
      "\"discriminator\":[{\"type\":\"Flatten\"},{\"type\":\"Linear\","
      "\"in_features\":16,\"out_features\":1}],"
      "\"feature_layer\":0,\"lambda\":0.1}";
  g_autoptr (JsonParser) parser = json_parser_new ();
  AnoganTrainOptions o;
  GError *error = NULL;
  AnoganModel *model;

  g_assert_true (json_parser_load_from_data (parser, description, -1, NULL));
  model = anogan_model_new_from_description (
      json_node_get_object (json_parser_get_root (parser)), "nosigmoid",
      &error);
  g_assert_no_error (error);
  golden_options (&o, 4);
  g_assert_null (anogan_trainer_new (model, &o, &error));
  g_assert_error (error, ANOGAN_MODEL_ERROR, ANOGAN_MODEL_ERROR_METADATA);
  g_assert_nonnull (strstr (error->message, "Sigmoid"));
  g_clear_error (&error);
}

/* Mean over @n generated patches of the distance to the nearest bar
 * picture: how well G draws the normal class. */
static double
distance_to_bars (AnoganModel *model, int n)
{
  const int size = 16;
  AnoganNet *g = &model->generator;
  g_autoptr (GRand) rand = g_rand_new_with_seed (4);
  g_autofree float *z = g_new (float, (gsize) n * model->nz);
  AnoganNetWorkspace *ws = anogan_net_workspace_new (g, g->n_layers, n,
      ANOGAN_NET_INFERENCE);
  const float *out;
  double total = 0.0;

  for (int i = 0; i < n * model->nz; i++)
    z[i] = (float) g_rand_double_range (rand, -1.5, 1.5);
  /* [nz][n] equals [n][nz] transposed; the values are i.i.d. anyway. */
  out = anogan_net_forward (g, ws, n, z);
  for (int s = 0; s < n; s++) {
    double best = G_MAXDOUBLE;
    for (int row = 2; row < size - 3; row++) {
      double d = 0.0;
      for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
          float want = y >= row && y < row + 3 ? 0.8f : -0.8f;
          d += fabs (out[((gsize) s * size + y) * size + x] - want);
        }
      best = MIN (best, d / (size * size));
    }
    total += best;
  }
  anogan_net_workspace_free (ws);
  return total / n;
}

/* The point of it all: after some hundred steps on bars, G draws bars.
 * This small G starts with outputs near 0 and loses to D at the DCGAN
 * paper's learning rate, in PyTorch as here; at 1e-3 it learns. */
static void
test_learns (void)
{
  g_autofree float *data = make_bars (512, 16, 4);
  g_autoptr (AnoganTrainer) t = new_trainer_lr (1, 0, data, 512, 1e-3);
  AnoganModel *model = anogan_trainer_get_model (t);
  double before = distance_to_bars (model, 32);
  double after;
  AnoganTrainStats first, stats;

  anogan_trainer_step (t, &first);
  run_steps (t, 1000);
  anogan_trainer_step (t, &stats);
  after = distance_to_bars (model, 32);
  g_test_message ("mean L1 to the nearest bar: %.3f before, %.3f after; "
      "D loss %.3f, G loss %.3f", before, after, stats.d_loss,
      stats.g_loss);
  g_assert_true (isfinite (stats.d_loss) && isfinite (stats.g_loss));
  /* D learns to tell real from fake: its loss falls from about 2 ln 2. */
  g_assert_cmpfloat (fabs (first.d_loss - 2 * G_LN2), <, 0.1);
  g_assert_cmpfloat (stats.d_loss, <, 0.5 * first.d_loss);
  g_assert_cmpfloat (after, <, 0.5 * before);
  g_assert_cmpfloat (after, <, 0.3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/train/golden-steps", test_golden_steps);
  g_test_add_func ("/train/deterministic", test_deterministic);
  g_test_add_func ("/train/checkpoint-resume", test_checkpoint_resume);
  g_test_add_func ("/train/bad-checkpoint", test_bad_checkpoint);
  g_test_add_func ("/train/bad-options", test_bad_options);
  g_test_add_func ("/train/too-little-data", test_too_little_data);
  g_test_add_func ("/train/needs-sigmoid", test_needs_sigmoid);
  g_test_add_func ("/train/learns", test_learns);
  return g_test_run ();
}
