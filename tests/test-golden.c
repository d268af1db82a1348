/* test-golden.c: the engine against PyTorch
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * tests/golden/make-golden.py builds each case's networks in PyTorch and
 * stores the model and, computed in float64, the outputs and gradients of
 * G, D and f, a training-mode pass of D and the latent search.  Here the
 * same model is loaded from its file and every one of those tensors is
 * recomputed and compared.
 */
#include <math.h>
#include <string.h>

#include "anogan-model.h"
#include "anogan-safetensors.h"
#include "anogan-search.h"
#include "anogan-test-util.h"

/* max |got - want| / max |want| per tensor.  float32 against a float64
 * reference ends near 1e-6; a wrong index or a missing term is far off. */
#define TOLERANCE 1e-4


static const char *const case_names[] = { "dcgan32", "dcgan64", "mixed" };

/* One case: the model and the golden tensors. */
typedef struct {
  const char *name;
  AnoganModel *model;
  GMappedFile *golden_file;
  AnoganSafetensors *golden;
  int batch;
  gsize grad_max_numel;         /* larger parameters have no stored grad */
} Case;

static gint64
golden_metadata_int (Case *c, const char *key)
{
  const char *text = anogan_safetensors_metadata (c->golden, key);

  if (!text)
    g_error ("%s/golden.safetensors: no metadata \"%s\"", c->name, key);
  return g_ascii_strtoll (text, NULL, 10);
}

static Case *
case_load (const char *name)
{
  Case *c = g_new0 (Case, 1);
  g_autofree char *model_rel = g_build_filename (name, "model.safetensors",
      NULL);
  g_autofree char *golden_rel = g_build_filename (name, "golden.safetensors",
      NULL);
  g_autofree char *model_path = anogan_test_data_path (model_rel);
  g_autofree char *golden_path = anogan_test_data_path (golden_rel);
  g_autoptr (GBytes) bytes = NULL;
  GError *error = NULL;

  c->name = name;
  c->model = anogan_model_load (model_path, &error);
  g_assert_no_error (error);

  c->golden_file = g_mapped_file_new (golden_path, FALSE, &error);
  g_assert_no_error (error);
  bytes = g_mapped_file_get_bytes (c->golden_file);
  c->golden = anogan_safetensors_parse (bytes, golden_path, &error);
  g_assert_no_error (error);

  c->batch = golden_metadata_int (c, "batch");
  c->grad_max_numel = golden_metadata_int (c, "grad_max_numel");
  g_assert_cmpint (c->batch, >=, 2);
  return c;
}

static void
case_free (Case *c)
{
  anogan_safetensors_free (c->golden);
  g_mapped_file_unref (c->golden_file);
  anogan_model_free (c->model);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Case, case_free)

static gsize
tensor_numel (const AnoganTensorInfo *t)
{
  gsize n = 1;

  for (int i = 0; i < t->rank; i++)
    n *= t->shape[i];
  return n;
}

/* A golden tensor as a new array, checked to hold @n floats. */
static float *
golden_get (Case *c, const char *name, gsize n)
{
  const AnoganTensorInfo *t = anogan_safetensors_lookup (c->golden, name);
  float *data;

  if (!t)
    g_error ("%s/golden.safetensors: no tensor \"%s\"", c->name, name);
  g_assert_cmpstr (t->dtype, ==, "F32");
  g_assert_cmpuint (tensor_numel (t), ==, n);
  data = g_new (float, n);
  g_assert_true (anogan_tensor_read_f32 (t, data, n));
  return data;
}

static void
golden_compare (Case *c, const char *name, const float *got, gsize n,
    double tolerance)
{
  g_autofree float *want = golden_get (c, name, n);
  g_autofree char *what = g_strdup_printf ("%s %s", c->name, name);

  anogan_test_assert_close (what, got, want, n, tolerance);
}

/* Channels and floats per channel of a sample of @shape, for the
 * conversions between NCHW and the channel-major layout. */
static int
shape_channels (const AnoganShape *shape)
{
  return shape->dims[0];
}

static gsize
shape_plane (const AnoganShape *shape)
{
  return shape->rank == 3 ? (gsize) shape->dims[1] * shape->dims[2] : 1;
}

/* A golden NCHW batch of @shape samples, converted to channel-major. */
static float *
golden_get_channel_major (Case *c, const char *name,
    const AnoganShape *shape)
{
  gsize n = anogan_shape_numel (shape) * c->batch;
  g_autofree float *nchw = golden_get (c, name, n);
  float *cnhw = g_new (float, n);

  anogan_nchw_to_cnhw (nchw, cnhw, c->batch, shape_channels (shape),
      shape_plane (shape));
  return cnhw;
}

/* Compares a channel-major batch with a golden NCHW one. */
static void
golden_compare_channel_major (Case *c, const char *name, const float *got,
    const AnoganShape *shape)
{
  gsize n = anogan_shape_numel (shape) * c->batch;
  g_autofree float *nchw = g_new (float, n);

  anogan_cnhw_to_nchw (got, nchw, c->batch, shape_channels (shape),
      shape_plane (shape));
  golden_compare (c, name, nchw, n, TOLERANCE);
}

/* Gradients laid out like @net's parameters, zeroed, as backward adds. */
static float *
grads_new (const AnoganNet *net, AnoganLayerParams **grads)
{
  float *block = g_new0 (float, anogan_net_param_floats (net));

  *grads = g_new0 (AnoganLayerParams, net->n_layers);
  anogan_net_bind_params (net, block, *grads);
  return block;
}

static int
golden_count_prefixed (Case *c, const char *prefix)
{
  int count = 0;

  for (int i = 0; i < anogan_safetensors_n_tensors (c->golden); i++)
    if (g_str_has_prefix (anogan_safetensors_get (c->golden, i)->name,
            prefix))
      count++;
  return count;
}

/* Compares the weight and bias gradients of every layer of @net with the
 * golden `<prefix><net>.<layer>.<param>`, and checks that no golden
 * gradient of @net went unmatched.  Only parameters larger than the case's
 * limit may lack a golden. */
static void
golden_compare_param_grads (Case *c, const char *prefix, const AnoganNet *net,
    const AnoganLayerParams *grads)
{
  static const AnoganParamKind kinds[] = {
    ANOGAN_PARAM_WEIGHT, ANOGAN_PARAM_BIAS
  };
  g_autofree char *net_prefix = g_strdup_printf ("%s%s.", prefix, net->name);
  int compared = 0;

  for (int i = 0; i < net->n_layers; i++) {
    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++) {
      const AnoganLayer *layer = &net->layers[i];
      gsize n = anogan_layer_param_floats (layer, kinds[k]);
      g_autofree char *name = g_strdup_printf ("%s%d.%s", net_prefix, i,
          anogan_param_names[kinds[k]]);

      if (!n)
        continue;
      g_assert_nonnull (grads[i].t[kinds[k]]);
      if (!anogan_safetensors_lookup (c->golden, name)) {
        if (c->grad_max_numel == 0 || n <= c->grad_max_numel)
          g_error ("%s/golden.safetensors: no tensor \"%s\"", c->name, name);
        g_test_message ("%s %s: %" G_GSIZE_FORMAT " floats, not stored",
            c->name, name, n);
        continue;
      }
      golden_compare (c, name, grads[i].t[kinds[k]], n, TOLERANCE);
      compared++;
    }
  }
  g_assert_cmpint (compared, >, 0);
  g_assert_cmpint (compared, ==, golden_count_prefixed (c, net_prefix));
}

/* ------------------------------------------------------------------------ */

static void
test_model (gconstpointer data)
{
  g_autoptr (Case) c = case_load (data);
  const AnoganModel *model = c->model;
  const AnoganTensorInfo *x = anogan_safetensors_lookup (c->golden, "x");
  const AnoganTensorInfo *z = anogan_safetensors_lookup (c->golden, "z");

  /* The golden batch is shaped as the model says. */
  g_assert_nonnull (x);
  g_assert_nonnull (z);
  g_assert_cmpint (x->rank, ==, 4);
  g_assert_cmpint (x->shape[0], ==, c->batch);
  for (int i = 0; i < 3; i++)
    g_assert_cmpint (x->shape[i + 1], ==, model->input.dims[i]);
  g_assert_cmpint (z->rank, ==, 2);
  g_assert_cmpint (z->shape[1], ==, model->nz);
  g_assert_cmpint (anogan_shape_numel (&model->generator.input_shape), ==,
      model->nz);
  g_assert_true (anogan_shape_equal (
          anogan_net_output_shape (&model->generator,
              model->generator.n_layers), &model->input));
  g_assert_true (anogan_shape_equal (&model->discriminator.input_shape,
          &model->input));
  g_assert_cmpfloat_with_epsilon (model->lambda, 0.1, 1e-7);
  g_assert_true (isnan (model->threshold));
}

/* G(z) and the gradients of <g_cot, G(z)> with respect to z and to G's
 * parameters, in eval mode. */
static void
test_generator (gconstpointer data)
{
  g_autoptr (Case) c = case_load (data);
  const AnoganNet *g = &c->model->generator;
  const AnoganShape *out_shape = anogan_net_output_shape (g, g->n_layers);
  g_autofree float *z = golden_get_channel_major (c, "z", &g->input_shape);
  g_autofree float *g_cot = golden_get_channel_major (c, "g_cot", out_shape);
  g_autofree float *dz = g_new (float, (gsize) c->model->nz * c->batch);
  g_autofree AnoganLayerParams *grads = NULL;
  g_autofree float *grad_block = grads_new (g, &grads);
  AnoganNetWorkspace *ws = anogan_net_workspace_new (g, g->n_layers,
      c->batch, ANOGAN_NET_PARAM_GRADS);

  golden_compare_channel_major (c, "g_out",
      anogan_net_forward (g, ws, c->batch, z), out_shape);

  anogan_net_backward (g, ws, g_cot, dz, grads);
  golden_compare_channel_major (c, "g_grad_z", dz, &g->input_shape);
  golden_compare_param_grads (c, "grad.", g, grads);

  anogan_net_workspace_free (ws);
}

/* D(x) in eval mode. */
static void
test_discriminator (gconstpointer data)
{
  g_autoptr (Case) c = case_load (data);
  const AnoganNet *d = &c->model->discriminator;
  g_autofree float *x = golden_get_channel_major (c, "x", &d->input_shape);
  AnoganNetWorkspace *ws = anogan_net_workspace_new (d, d->n_layers,
      c->batch, ANOGAN_NET_INFERENCE);

  golden_compare_channel_major (c, "d_out",
      anogan_net_forward (d, ws, c->batch, x),
      anogan_net_output_shape (d, d->n_layers));
  anogan_net_workspace_free (ws);
}

/* f = D[:K+1] on G(z) and on x, and the gradients of <f_cot, f(x)> with
 * respect to x and to D's parameters (zero past layer K). */
static void
test_features (gconstpointer data)
{
  g_autoptr (Case) c = case_load (data);
  const AnoganNet *d = &c->model->discriminator;
  int n_layers = c->model->feature_layer + 1;
  const AnoganShape *f_shape = anogan_net_output_shape (d, n_layers);
  g_autofree float *x = golden_get_channel_major (c, "x", &d->input_shape);
  g_autofree float *gz = golden_get_channel_major (c, "g_out",
      &d->input_shape);
  g_autofree float *f_cot = golden_get_channel_major (c, "f_cot", f_shape);
  g_autofree float *dx = g_new (float,
      anogan_shape_numel (&d->input_shape) * c->batch);
  g_autofree AnoganLayerParams *grads = NULL;
  g_autofree float *grad_block = grads_new (d, &grads);
  AnoganNetWorkspace *ws = anogan_net_workspace_new (d, n_layers, c->batch,
      ANOGAN_NET_PARAM_GRADS);

  golden_compare_channel_major (c, "f_gz",
      anogan_net_forward (d, ws, c->batch, gz), f_shape);
  golden_compare_channel_major (c, "f_x",
      anogan_net_forward (d, ws, c->batch, x), f_shape);

  anogan_net_backward (d, ws, f_cot, dx, grads);
  golden_compare_channel_major (c, "f_grad_x", dx, &d->input_shape);
  golden_compare_param_grads (c, "grad.", d, grads);

  anogan_net_workspace_free (ws);
}

/* D(x) in training mode and the gradients of <d_cot, D(x)>. */
static void
test_training (gconstpointer data)
{
  g_autoptr (Case) c = case_load (data);
  const AnoganNet *d = &c->model->discriminator;
  const AnoganShape *out_shape = anogan_net_output_shape (d, d->n_layers);
  g_autofree float *x = golden_get_channel_major (c, "x", &d->input_shape);
  g_autofree float *d_cot = golden_get_channel_major (c, "d_cot", out_shape);
  g_autofree float *dx = g_new (float,
      anogan_shape_numel (&d->input_shape) * c->batch);
  g_autofree AnoganLayerParams *grads = NULL;
  g_autofree float *grad_block = grads_new (d, &grads);
  AnoganNetWorkspace *ws = anogan_net_workspace_new (d, d->n_layers,
      c->batch, ANOGAN_NET_TRAINING | ANOGAN_NET_PARAM_GRADS);

  golden_compare_channel_major (c, "train_d_out",
      anogan_net_forward (d, ws, c->batch, x), out_shape);

  anogan_net_backward (d, ws, d_cot, dx, grads);
  golden_compare_channel_major (c, "train_grad_x", dx, &d->input_shape);
  golden_compare_param_grads (c, "train_grad.", d, grads);

  anogan_net_workspace_free (ws);
}

/* The running statistics after that training pass.  The layers run one
 * by one here, as the update needs each BatchNorm's own run. */
static void
test_running_stats (gconstpointer data)
{
  g_autoptr (Case) c = case_load (data);
  const AnoganNet *d = &c->model->discriminator;
  g_autofree float *x = golden_get_channel_major (c, "x", &d->input_shape);
  float *in = g_steal_pointer (&x);
  int updated = 0;

  for (int i = 0; i < d->n_layers; i++) {
    const AnoganLayer *layer = &d->layers[i];
    gsize n_out = anogan_shape_numel (&layer->out_shape) * c->batch;
    /* One float more, so that layers that need none still get a buffer. */
    g_autofree float *scratch = g_new0 (float,
        anogan_layer_scratch_floats (layer, c->batch) + 1);
    g_autofree float *state = g_new0 (float,
        anogan_layer_state_floats (layer, c->batch, TRUE) + 1);
    float *out = g_new (float, n_out);
    AnoganLayerRun run = {
      .batch = c->batch, .training = TRUE, .scratch = scratch,
      .state = state, .rng = 1,
    };

    anogan_layer_forward (layer, &d->params[i], &run, in, out);
    g_free (in);
    in = out;

    if (layer->kind == ANOGAN_LAYER_BATCH_NORM1D
        || layer->kind == ANOGAN_LAYER_BATCH_NORM2D) {
      gsize n = layer->in_channels;
      AnoganLayerParams params = d->params[i];
      g_autofree float *mean = g_memdup2 (
          params.t[ANOGAN_PARAM_RUNNING_MEAN], n * sizeof (float));
      g_autofree float *var = g_memdup2 (
          params.t[ANOGAN_PARAM_RUNNING_VAR], n * sizeof (float));
      g_autofree char *mean_name = g_strdup_printf (
          "train_running.%s.%d.running_mean", d->name, i);
      g_autofree char *var_name = g_strdup_printf (
          "train_running.%s.%d.running_var", d->name, i);

      params.t[ANOGAN_PARAM_RUNNING_MEAN] = mean;
      params.t[ANOGAN_PARAM_RUNNING_VAR] = var;
      anogan_layer_update_running_stats (layer, &params, &run);
      golden_compare (c, mean_name, mean, n, TOLERANCE);
      golden_compare (c, var_name, var, n, TOLERANCE);
      updated++;
    }
  }

  /* Layer by layer, the output is the network's. */
  golden_compare_channel_major (c, "train_d_out", in,
      anogan_net_output_shape (d, d->n_layers));
  g_free (in);

  g_assert_cmpint (updated * 2, ==,
      golden_count_prefixed (c, "train_running."));
  if (updated == 0)
    g_test_skip ("no BatchNorm in D");
}

/* ------------------------------------------------------------------------ */

typedef struct {
  const char *case_name;
  AnoganResidualLoss loss;
  gboolean is_short;
} SearchTest;

static void
test_search (gconstpointer data)
{
  const SearchTest *t = data;
  g_autoptr (Case) c = case_load (t->case_name);
  const AnoganModel *model = c->model;
  const char *stem = t->is_short ? "search_short_" : "search_";
  const char *loss = t->loss == ANOGAN_LOSS_L2 ? "l2_" : "";
  int steps = golden_metadata_int (c,
      t->is_short ? "search_short_steps" : "search_steps");
  gsize patch_floats = anogan_shape_numel (&model->input);
  g_autofree float *x = golden_get (c, "x", patch_floats * c->batch);
  g_autofree float *z0 = golden_get (c, "search_z0",
      (gsize) model->nz * c->batch);
  g_autofree float *z = g_new (float, (gsize) model->nz * c->batch);
  g_autofree AnoganPatchResult *results = g_new0 (AnoganPatchResult,
      c->batch);
  g_autofree float *score = g_new (float, c->batch);
  g_autofree float *residual = g_new (float, c->batch);
  g_autofree float *discrimination = g_new (float, c->batch);
  g_autofree char *z_name = g_strconcat (stem, loss, "z", NULL);
  g_autofree char *score_name = g_strconcat (stem, loss, "score", NULL);
  g_autofree char *residual_name = g_strconcat (stem, loss, "residual",
      NULL);
  g_autofree char *discrimination_name = g_strconcat (stem, loss,
      "discrimination", NULL);
  AnoganSearchOutputs out = { .results = results, .z = z };
  AnoganSearchOptions options;
  g_autoptr (AnoganSearch) search = NULL;
  GError *error = NULL;

  g_assert_cmpint (steps, >, 0);
  anogan_search_options_init (&options);
  options.iterations = steps;
  options.learning_rate = 0.01f;
  options.lambda = -1.0f;
  options.loss = t->loss;
  options.patience = 0;
  options.threads = 1;
  options.batch = c->batch;
  search = anogan_search_new (model, &options, &error);
  g_assert_no_error (error);

  g_assert_true (anogan_search_run (search, c->batch, x, z0, &out, &error));
  g_assert_no_error (error);

  for (int i = 0; i < c->batch; i++) {
    g_assert_cmpint (results[i].iterations, ==, steps);
    score[i] = results[i].score;
    residual[i] = results[i].residual;
    discrimination[i] = results[i].discrimination;
  }
  golden_compare (c, z_name, z, (gsize) model->nz * c->batch,
      TOLERANCE);
  golden_compare (c, score_name, score, c->batch, TOLERANCE);
  golden_compare (c, residual_name, residual, c->batch, TOLERANCE);
  golden_compare (c, discrimination_name, discrimination, c->batch,
      TOLERANCE);
}

/* ------------------------------------------------------------------------ */

static void
add_case_test (const char *case_name, const char *what, GTestDataFunc func)
{
  g_autofree char *path = g_strdup_printf ("/golden/%s/%s", case_name, what);

  g_test_add_data_func (path, case_name, func);
}

static void
add_search_test (const char *case_name, AnoganResidualLoss loss,
    gboolean is_short)
{
  SearchTest *t = g_new (SearchTest, 1);
  g_autofree char *path = g_strdup_printf ("/golden/%s/search-%s%s",
      case_name, loss == ANOGAN_LOSS_L2 ? "l2" : "l1",
      is_short ? "-short" : "");

  t->case_name = case_name;
  t->loss = loss;
  t->is_short = is_short;
  g_test_add_data_func_full (path, t, test_search, g_free);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (case_names); i++) {
    const char *name = case_names[i];

    add_case_test (name, "model", test_model);
    add_case_test (name, "generator", test_generator);
    add_case_test (name, "discriminator", test_discriminator);
    add_case_test (name, "features", test_features);
    add_case_test (name, "training", test_training);
    add_case_test (name, "running-stats", test_running_stats);
    for (int l = ANOGAN_LOSS_L1; l <= ANOGAN_LOSS_L2; l++) {
      add_search_test (name, l, TRUE);
      add_search_test (name, l, FALSE);
    }
  }
  return g_test_run ();
}
