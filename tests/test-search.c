/* test-search.c: the latent search, against independent computations
 *
 * The golden tests compare a search with PyTorch's; these check its
 * contract: the score is the loss at the final z (recomputed here from the
 * networks), Adam's first step follows the sign of the finite-difference
 * gradient, results do not depend on threads, options do what they say.
 */
#include <math.h>
#include <string.h>

#include "anogan-search.h"
#include "anogan-test-util.h"

#define N_PATCHES 7             /* not a multiple of the batch: a ragged
                                 * last batch is exercised too */

typedef struct {
  AnoganModel *model;
  int nz;
  gsize pixels;
  float *patches;               /* N_PATCHES, NCHW */
  float *z0;                    /* N_PATCHES x nz */
} Fixture;

/* DCGAN's N(0, 0.02) initialisation leaves an untrained G nearly constant;
 * weights scaled to their fan-in (He) and random BatchNorm shifts give a G
 * whose output really depends on z, as a trained one does. */
static void
condition_weights (AnoganNet *net, guint64 *rng)
{
  for (int i = 0; i < net->n_layers; i++) {
    const AnoganLayer *l = &net->layers[i];
    float *w = net->params[i].t[ANOGAN_PARAM_WEIGHT];
    float *b = net->params[i].t[ANOGAN_PARAM_BIAS];
    gsize n = anogan_layer_param_floats (l, ANOGAN_PARAM_WEIGHT);

    if (l->kind == ANOGAN_LAYER_CONV2D
        || l->kind == ANOGAN_LAYER_CONV_TRANSPOSE2D) {
      double fan_in = (double) l->in_channels * l->kernel[0] * l->kernel[1];
      float a;

      if (l->kind == ANOGAN_LAYER_CONV_TRANSPOSE2D)
        fan_in /= (double) l->stride[0] * l->stride[1];
      a = sqrt (6.0 / fan_in);
      anogan_test_fill_uniform (w, n, rng, -a, a);
    } else if (l->kind == ANOGAN_LAYER_BATCH_NORM2D) {
      anogan_test_fill_uniform (b, l->in_channels, rng, -0.2f, 0.2f);
    }
  }
}

/* Targets the generator can almost reach: G of random z, plus noise. */
static void
fixture_init (Fixture *f)
{
  GError *error = NULL;
  guint64 rng = anogan_test_rng (11);
  AnoganSearchOptions o;
  AnoganSearch *s;
  AnoganPatchResult results[N_PATCHES];
  AnoganSearchOutputs out = { .results = results };

  f->model = anogan_model_new_from_arch ("dcgan32", &error);
  g_assert_no_error (error);
  anogan_model_init_weights (f->model, 7);
  condition_weights (&f->model->generator, &rng);
  condition_weights (&f->model->discriminator, &rng);
  f->nz = f->model->nz;
  f->pixels = anogan_shape_numel (&f->model->input);
  f->patches = g_new (float, f->pixels * N_PATCHES);
  f->z0 = g_new (float, (gsize) f->nz * N_PATCHES);

  anogan_search_options_init (&o);
  o.iterations = 0;
  o.z_init = ANOGAN_Z_NORMAL;
  o.seed = 99;
  o.threads = 1;
  s = anogan_search_new (f->model, &o, &error);
  g_assert_no_error (error);
  out.generated = f->patches;
  memset (f->patches, 0, f->pixels * N_PATCHES * sizeof (float));
  g_assert_true (anogan_search_run (s, N_PATCHES, f->patches, NULL, &out,
          &error));
  for (gsize i = 0; i < f->pixels * N_PATCHES; i++)
    f->patches[i] = CLAMP (f->patches[i] + anogan_test_uniform (&rng, -0.02f,
            0.02f), -1.0f, 1.0f);
  anogan_test_fill_uniform (f->z0, (gsize) f->nz * N_PATCHES, &rng, -1, 1);
  anogan_search_free (s);
}

static void
fixture_clear (Fixture *f)
{
  anogan_model_free (f->model);
  g_free (f->patches);
  g_free (f->z0);
}

/* Gives the fixture's model an encoder whose output depends on x: on the
 * image, or with @features on the discriminator's features f(x). */
static void
fixture_add_encoder_reading (Fixture *f, gboolean features)
{
  GError *error = NULL;
  guint64 rng = anogan_test_rng (23);
  AnoganModel *with = features
      ? anogan_model_add_feature_encoder (f->model, NULL, 5, &error)
      : anogan_model_add_encoder (f->model, NULL, 5, &error);

  g_assert_no_error (error);
  g_assert_true (anogan_model_has_encoder (with));
  condition_weights (&with->encoder, &rng);
  g_assert_cmpint (with->encoder_reads_features, ==, features);
  anogan_model_free (f->model);
  f->model = with;
}

static void
fixture_add_encoder (Fixture *f)
{
  fixture_add_encoder_reading (f, FALSE);
}

static AnoganSearch *
new_search_with (Fixture *f, const AnoganSearchOptions *o)
{
  GError *error = NULL;
  AnoganSearch *s = anogan_search_new (f->model, o, &error);

  g_assert_no_error (error);
  return s;
}

static AnoganSearch *
new_search (Fixture *f, int iterations, int threads, int batch)
{
  AnoganSearchOptions o;

  anogan_search_options_init (&o);
  o.iterations = iterations;
  o.threads = threads;
  o.batch = batch;
  return new_search_with (f, &o);
}

static void
run (AnoganSearch *s, Fixture *f, const float *z_start,
    AnoganSearchOutputs *out)
{
  GError *error = NULL;

  g_assert_true (anogan_search_run (s, N_PATCHES, f->patches, z_start, out,
          &error));
  g_assert_no_error (error);
}

/* L(z) for one patch, straight from the networks, in double. */
static double
reference_loss (Fixture *f, int patch, const float *z, double *residual,
    double *discrimination)
{
  const AnoganModel *m = f->model;
  int k = m->feature_layer + 1;
  AnoganNetWorkspace *g_ws, *d_ws;
  const float *gz, *feat;
  float *f_x;
  gsize n_feat = anogan_shape_numel (anogan_net_output_shape
      (&m->discriminator, k));
  const float *x = f->patches + patch * f->pixels;
  float *gz_copy = g_new (float, f->pixels);

  g_ws = anogan_net_workspace_new (&m->generator, m->generator.n_layers, 1,
      ANOGAN_NET_INFERENCE);
  d_ws = anogan_net_workspace_new (&m->discriminator, k, 1,
      ANOGAN_NET_INFERENCE);
  /* With one sample, channel-major and NCHW are the same layout. */
  feat = anogan_net_forward (&m->discriminator, d_ws, 1, x);
  f_x = g_memdup2 (feat, n_feat * sizeof (float));
  gz = anogan_net_forward (&m->generator, g_ws, 1, z);
  memcpy (gz_copy, gz, f->pixels * sizeof (float));
  feat = anogan_net_forward (&m->discriminator, d_ws, 1, gz_copy);

  *residual = *discrimination = 0.0;
  for (gsize i = 0; i < f->pixels; i++)
    *residual += fabs ((double) x[i] - gz_copy[i]);
  for (gsize i = 0; i < n_feat; i++)
    *discrimination += fabs ((double) f_x[i] - feat[i]);

  anogan_net_workspace_free (g_ws);
  anogan_net_workspace_free (d_ws);
  g_free (f_x);
  g_free (gz_copy);
  return (1.0 - m->lambda) * *residual + m->lambda * *discrimination;
}

static void
test_score_is_loss_at_z (void)
{
  Fixture f;
  AnoganPatchResult results[N_PATCHES];
  AnoganSearchOutputs out = { .results = results };
  AnoganSearch *s;

  fixture_init (&f);
  out.z = g_new (float, (gsize) f.nz * N_PATCHES);
  s = new_search (&f, 5, 1, 4);
  run (s, &f, f.z0, &out);
  for (int p = 0; p < N_PATCHES; p++) {
    double residual, discrimination;
    double loss = reference_loss (&f, p, out.z + p * f.nz, &residual,
        &discrimination);

    g_assert_cmpfloat_with_epsilon (results[p].score, loss, 1e-5 * loss);
    g_assert_cmpfloat_with_epsilon (results[p].residual, residual,
        1e-5 * residual);
    g_assert_cmpfloat_with_epsilon (results[p].discrimination,
        discrimination, 1e-5 * discrimination + 1e-6);
    g_assert_cmpint (results[p].iterations, ==, 5);
  }
  anogan_search_free (s);
  g_free (out.z);
  fixture_clear (&f);
}

/* Adam's first step is lr·m̂/(√v̂+ε) = lr·g/(|g|+ε): it moves each
 * coordinate by the learning rate against the sign of the gradient.
 * The gradient's sign is taken from central differences of the loss. */
static void
test_first_step_follows_gradient (void)
{
  const float h = 1e-2f;
  Fixture f;
  AnoganPatchResult results[N_PATCHES];
  AnoganSearchOutputs out = { .results = results };
  AnoganSearch *zero, *one;
  float *z, *moved, *fd, steepest = 0.0f;
  int checked = 0;

  fixture_init (&f);
  z = g_memdup2 (f.z0, (gsize) f.nz * N_PATCHES * sizeof (float));
  moved = g_new (float, (gsize) f.nz * N_PATCHES);
  fd = g_new (float, (gsize) f.nz * N_PATCHES);
  zero = new_search (&f, 0, 1, 4);
  one = new_search (&f, 1, 1, 4);

  out.z = moved;
  run (one, &f, f.z0, &out);
  out.z = NULL;
  for (int i = 0; i < f.nz; i++) {
    double up[N_PATCHES];

    for (int p = 0; p < N_PATCHES; p++)
      z[p * f.nz + i] = f.z0[p * f.nz + i] + h;
    run (zero, &f, z, &out);
    for (int p = 0; p < N_PATCHES; p++)
      up[p] = results[p].score;
    for (int p = 0; p < N_PATCHES; p++)
      z[p * f.nz + i] = f.z0[p * f.nz + i] - h;
    run (zero, &f, z, &out);
    for (int p = 0; p < N_PATCHES; p++) {
      fd[p * f.nz + i] = (up[p] - results[p].score) / (2 * h);
      z[p * f.nz + i] = f.z0[p * f.nz + i];
    }
  }

  for (int k = 0; k < f.nz * N_PATCHES; k++)
    steepest = MAX (steepest, fabsf (fd[k]));
  for (int k = 0; k < f.nz * N_PATCHES; k++) {
    float step = moved[k] - f.z0[k];

    g_assert_cmpfloat (fabsf (step), <=, 0.01f * 1.0001f);
    /* Where the loss clearly slopes, the step goes downhill. */
    if (fabsf (fd[k]) > 0.1f * steepest) {
      g_assert_cmpfloat (step * fd[k], <, 0.0f);
      g_assert_cmpfloat_with_epsilon (fabsf (step), 0.01f, 1e-4f);
      checked++;
    }
  }
  g_test_message ("%d of %d coordinates checked", checked, f.nz * N_PATCHES);
  g_assert_cmpint (checked, >, f.nz * N_PATCHES / 10);

  anogan_search_free (zero);
  anogan_search_free (one);
  g_free (fd);
  g_free (moved);
  g_free (z);
  fixture_clear (&f);
}

static void
test_loss_decreases (void)
{
  Fixture f;
  AnoganPatchResult before[N_PATCHES], after[N_PATCHES];
  AnoganSearchOutputs out = { .results = before };
  AnoganSearch *s0, *s50;

  fixture_init (&f);
  s0 = new_search (&f, 0, 1, 4);
  s50 = new_search (&f, 50, 1, 4);
  /* Not from z = 0: with freshly initialised BatchNorm (zero mean and
   * bias) and no convolution biases, G(0) = 0 sits on ReLU's kinks and
   * the gradient there vanishes. */
  run (s0, &f, f.z0, &out);
  out.results = after;
  run (s50, &f, f.z0, &out);
  for (int p = 0; p < N_PATCHES; p++) {
    g_test_message ("patch %d: %g -> %g", p, before[p].score, after[p].score);
    g_assert_cmpfloat (after[p].score, <, 0.9f * before[p].score);
  }
  anogan_search_free (s0);
  anogan_search_free (s50);
  fixture_clear (&f);
}

/* Batches are cut the same way whatever the thread count, so results are
 * identical to the bit. */
static void
test_threads_do_not_change_results (void)
{
  Fixture f;
  const int threads[] = { 1, 2, 4 };
  AnoganPatchResult results[3][N_PATCHES];
  float *z[3];

  fixture_init (&f);
  for (int t = 0; t < 3; t++) {
    AnoganSearch *s = new_search (&f, 10, threads[t], 2);
    AnoganSearchOutputs out = { .results = results[t] };

    z[t] = out.z = g_new (float, (gsize) f.nz * N_PATCHES);
    run (s, &f, NULL, &out);
    g_assert_cmpint (anogan_search_get_options (s)->threads, ==, threads[t]);
    anogan_search_free (s);
  }
  for (int t = 1; t < 3; t++) {
    g_assert_cmpmem (results[0], sizeof results[0], results[t],
        sizeof results[t]);
    g_assert_cmpmem (z[0], f.nz * N_PATCHES * sizeof (float), z[t],
        f.nz * N_PATCHES * sizeof (float));
  }
  for (int t = 0; t < 3; t++)
    g_free (z[t]);
  fixture_clear (&f);
}

static void
test_outputs (void)
{
  Fixture f;
  AnoganPatchResult results[N_PATCHES];
  AnoganSearchOutputs out = { .results = results };
  AnoganSearch *s;

  fixture_init (&f);
  out.z = g_new (float, (gsize) f.nz * N_PATCHES);
  out.generated = g_new (float, f.pixels * N_PATCHES);
  out.residual_map = g_new (float, f.pixels * N_PATCHES);
  s = new_search (&f, 0, 2, 3);
  run (s, &f, f.z0, &out);

  /* Zero iterations: z* is the start, and the maps are |x - G(z*)|. */
  g_assert_cmpmem (out.z, f.nz * N_PATCHES * sizeof (float), f.z0,
      f.nz * N_PATCHES * sizeof (float));
  for (int p = 0; p < N_PATCHES; p++) {
    double sum = 0.0;
    for (gsize i = 0; i < f.pixels; i++) {
      gsize k = p * f.pixels + i;
      g_assert_cmpfloat (out.residual_map[k], ==,
          fabsf (f.patches[k] - out.generated[k]));
      sum += out.residual_map[k];
    }
    g_assert_cmpfloat_with_epsilon (results[p].residual, sum, 1e-5 * sum);
    g_assert_cmpint (results[p].iterations, ==, 0);
  }
  anogan_search_free (s);
  g_free (out.z);
  g_free (out.generated);
  g_free (out.residual_map);
  fixture_clear (&f);
}

static void
test_l2_residual (void)
{
  Fixture f;
  AnoganPatchResult results[N_PATCHES];
  AnoganSearchOutputs out = { .results = results };
  AnoganSearchOptions o;
  GError *error = NULL;
  AnoganSearch *s;

  fixture_init (&f);
  anogan_search_options_init (&o);
  o.iterations = 0;
  o.loss = ANOGAN_LOSS_L2;
  o.lambda = 0.25f;
  s = anogan_search_new (f.model, &o, &error);
  g_assert_no_error (error);
  out.generated = g_new (float, f.pixels * N_PATCHES);
  run (s, &f, f.z0, &out);
  for (int p = 0; p < N_PATCHES; p++) {
    double sum = 0.0;
    for (gsize i = 0; i < f.pixels; i++) {
      double d = f.patches[p * f.pixels + i] - out.generated[p * f.pixels + i];
      sum += d * d;
    }
    g_assert_cmpfloat_with_epsilon (results[p].residual, sum, 1e-5 * sum);
    g_assert_cmpfloat_with_epsilon (results[p].score,
        0.75 * results[p].residual + 0.25 * results[p].discrimination,
        1e-5 * results[p].score);
  }
  anogan_search_free (s);
  g_free (out.generated);
  fixture_clear (&f);
}

static void
test_early_stop (void)
{
  Fixture f;
  AnoganPatchResult results[N_PATCHES];
  AnoganSearchOutputs out = { .results = results };
  AnoganSearchOptions o;
  GError *error = NULL;
  AnoganSearch *s;

  fixture_init (&f);
  anogan_search_options_init (&o);
  o.iterations = 200;
  o.patience = 3;
  o.tolerance = 0.05f;          /* demands 5% a step: soon unmet */
  o.threads = 1;
  s = anogan_search_new (f.model, &o, &error);
  g_assert_no_error (error);
  run (s, &f, NULL, &out);
  for (int p = 0; p < N_PATCHES; p++) {
    g_assert_cmpint (results[p].iterations, >=, 0);
    g_assert_cmpint (results[p].iterations, <, 200);
  }
  anogan_search_free (s);
  fixture_clear (&f);
}

static void
test_random_starts (void)
{
  Fixture f;
  AnoganSearchOptions o;
  AnoganPatchResult results[N_PATCHES];
  AnoganSearchOutputs out = { .results = results };
  GError *error = NULL;
  float *z[3];
  const guint64 seeds[3] = { 5, 5, 6 };
  double sum = 0.0, sum2 = 0.0;
  gsize n;

  fixture_init (&f);
  n = (gsize) f.nz * N_PATCHES;
  for (int i = 0; i < 3; i++) {
    AnoganSearch *s;

    anogan_search_options_init (&o);
    o.iterations = 0;
    o.z_init = ANOGAN_Z_NORMAL;
    o.seed = seeds[i];
    o.batch = i + 1;            /* batching must not matter */
    s = anogan_search_new (f.model, &o, &error);
    g_assert_no_error (error);
    z[i] = out.z = g_new (float, n);
    run (s, &f, NULL, &out);
    anogan_search_free (s);
  }
  g_assert_cmpmem (z[0], n * sizeof (float), z[1], n * sizeof (float));
  g_assert_true (memcmp (z[0], z[2], n * sizeof (float)) != 0);
  for (gsize i = 0; i < n; i++) {
    sum += z[0][i];
    sum2 += (double) z[0][i] * z[0][i];
  }
  /* 448 standard normal samples: mean within 4.5 sigma of 0, variance
   * within 40% of 1. */
  g_assert_cmpfloat (fabs (sum / n), <, 4.5 / sqrt (n));
  g_assert_cmpfloat (fabs (sum2 / n - 1.0), <, 0.4);
  for (int i = 0; i < 3; i++)
    g_free (z[i]);
  fixture_clear (&f);
}

/* The best of a bank of candidates: never worse than the origin (which is
 * one of them), the score is the loss at the chosen z, the choice does not
 * depend on threads or batching, and a patch that G draws exactly from one
 * candidate is matched to it with a loss of zero. */
static AnoganSearch *
new_candidate_search (Fixture *f, int threads, int batch)
{
  AnoganSearchOptions o;

  anogan_search_options_init (&o);
  o.iterations = 0;
  o.candidates = 40;
  o.seed = 3;
  o.threads = threads;
  o.batch = batch;
  return new_search_with (f, &o);
}

static void
test_candidates (void)
{
  Fixture f;
  AnoganPatchResult chosen[N_PATCHES], again[N_PATCHES], origin[N_PATCHES];
  AnoganSearchOutputs out = { .results = chosen };
  AnoganSearch *s;
  float *z, *z_again, *drawn;
  gsize n;

  fixture_init (&f);
  n = (gsize) f.nz * N_PATCHES;
  z = out.z = g_new (float, n);
  drawn = out.generated = g_new (float, f.pixels * N_PATCHES);
  s = new_candidate_search (&f, 1, 3);
  run (s, &f, NULL, &out);
  anogan_search_free (s);

  s = new_candidate_search (&f, 2, 8);
  z_again = g_new (float, n);
  run (s, &f, NULL, &(AnoganSearchOutputs) { .results = again, .z = z_again });
  g_assert_cmpmem (z, n * sizeof (float), z_again, n * sizeof (float));
  g_assert_cmpmem (chosen, sizeof chosen, again, sizeof again);
  anogan_search_free (s);

  s = new_search (&f, 0, 1, 8);
  run (s, &f, NULL, &(AnoganSearchOutputs) { .results = origin });
  anogan_search_free (s);
  for (int p = 0; p < N_PATCHES; p++) {
    double residual, discrimination;
    double want = reference_loss (&f, p, z + (gsize) p * f.nz, &residual,
        &discrimination);

    g_assert_cmpfloat (chosen[p].score, <=, origin[p].score);
    g_assert_cmpfloat_with_epsilon (chosen[p].score, want, 1e-4 * want);
  }

  /* Patches G drew from the chosen candidates are found again: G's output
   * can differ in the last bits with the batch, hence the tolerance. */
  memcpy (f.patches, drawn, f.pixels * N_PATCHES * sizeof (float));
  s = new_candidate_search (&f, 2, 8);
  run (s, &f, NULL, &(AnoganSearchOutputs) { .results = again, .z = z_again });
  anogan_search_free (s);
  for (int p = 0; p < N_PATCHES; p++)
    g_assert_cmpfloat (again[p].score, <, 1e-3f);
  g_assert_cmpmem (z, n * sizeof (float), z_again, n * sizeof (float));

  g_free (z);
  g_free (z_again);
  g_free (drawn);
  fixture_clear (&f);
}

static void
test_bad_options (void)
{
  Fixture f;
  AnoganSearchOptions o;
  GError *error = NULL;

  fixture_init (&f);
#define EXPECT_REFUSED(field, value) G_STMT_START {                     \
    anogan_search_options_init (&o);                                   \
    o.field = value;                                                   \
    g_assert_null (anogan_search_new (f.model, &o, &error));           \
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);   \
    g_test_message ("%s = %s: %s", #field, #value, error->message);    \
    g_clear_error (&error);                                            \
  } G_STMT_END
  EXPECT_REFUSED (iterations, -1);
  EXPECT_REFUSED (learning_rate, 0.0f);
  EXPECT_REFUSED (learning_rate, NAN);
  EXPECT_REFUSED (lambda, 1.5f);
  EXPECT_REFUSED (batch, 0);
  EXPECT_REFUSED (threads, -2);
  EXPECT_REFUSED (patience, -1);
  EXPECT_REFUSED (candidates, -1);
  EXPECT_REFUSED (tolerance, -0.1f);
  EXPECT_REFUSED (refine_above, NAN);
  /* This model has no encoder to start from. */
  EXPECT_REFUSED (z_init, ANOGAN_Z_ENCODER);
  fixture_add_encoder (&f);
  anogan_search_options_init (&o);
  o.z_init = ANOGAN_Z_ENCODER;
  o.candidates = 4;
  g_assert_null (anogan_search_new (f.model, &o, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
#undef EXPECT_REFUSED
  {
    AnoganSearch *s = new_search (&f, 1, 1, 1);
    AnoganSearchOutputs out = { 0 };

    g_assert_true (anogan_search_run (s, 0, NULL, NULL, &out, &error));
    g_assert_false (anogan_search_run (s, 3, NULL, NULL, &out, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    anogan_search_free (s);
  }
  fixture_clear (&f);
}

/* ---- Encoder starts, traces, retirement ---- */

static AnoganSearch *
new_mode_search (Fixture *f, AnoganMode mode, int iterations, int batch)
{
  AnoganSearchOptions o;

  anogan_search_options_init (&o);
  anogan_search_options_set_mode (&o, mode, iterations);
  o.threads = 1;
  o.batch = batch;
  return new_search_with (f, &o);
}

static void
test_encoder_start (gconstpointer data)
{
  const gboolean features = GPOINTER_TO_INT (data);
  Fixture f;
  AnoganPatchResult results[N_PATCHES];
  AnoganSearchOutputs out = { .results = results };
  AnoganNetWorkspace *e_ws, *d_ws = NULL;
  AnoganSearch *s;

  fixture_init (&f);
  fixture_add_encoder_reading (&f, features);
  out.z = g_new (float, (gsize) f.nz * N_PATCHES);
  s = new_mode_search (&f, ANOGAN_MODE_ENCODER, -1, 4);
  g_assert_cmpint (anogan_search_get_options (s)->iterations, ==, 0);
  run (s, &f, NULL, &out);

  /* z is E(x), computed here one patch at a time; the score is the loss
   * there, and no step was taken. */
  e_ws = anogan_net_workspace_new (&f.model->encoder,
      f.model->encoder.n_layers, 1, ANOGAN_NET_INFERENCE);
  if (features)
    d_ws = anogan_net_workspace_new (&f.model->discriminator,
        f.model->feature_layer + 1, 1, ANOGAN_NET_INFERENCE);
  for (int p = 0; p < N_PATCHES; p++) {
    const float *x = f.patches + p * f.pixels;
    const float *e = anogan_net_forward (&f.model->encoder, e_ws, 1,
        features ? anogan_net_forward (&f.model->discriminator, d_ws, 1, x)
        : x);
    const float *z = out.z + (gsize) p * f.nz;
    double residual, discrimination, loss;
    float spread = 0.0f;

    for (int i = 0; i < f.nz; i++) {
      g_assert_cmpfloat_with_epsilon (z[i], e[i], 1e-5f * (1 + fabsf (e[i])));
      spread = MAX (spread, fabsf (e[i] - out.z[i]));
    }
    if (p > 0)
      g_assert_cmpfloat (spread, >, 1e-3f);     /* E looks at x */
    loss = reference_loss (&f, p, z, &residual, &discrimination);
    g_assert_cmpfloat_with_epsilon (results[p].score, loss, 1e-4 * loss);
    g_assert_cmpint (results[p].iterations, ==, 0);
  }
  anogan_net_workspace_free (e_ws);
  if (d_ws)
    anogan_net_workspace_free (d_ws);
  anogan_search_free (s);
  g_free (out.z);
  fixture_clear (&f);
}

/* Hybrid is an optimising search that starts at E(x). */
static void
test_hybrid_steps_from_encoder (void)
{
  Fixture f;
  AnoganPatchResult start[N_PATCHES], hybrid[N_PATCHES], from_z[N_PATCHES];
  AnoganSearchOutputs out = { .results = start };
  float *z;
  AnoganSearch *s;

  fixture_init (&f);
  fixture_add_encoder (&f);
  z = out.z = g_new (float, (gsize) f.nz * N_PATCHES);
  s = new_mode_search (&f, ANOGAN_MODE_ENCODER, -1, 4);
  run (s, &f, NULL, &out);
  anogan_search_free (s);

  s = new_mode_search (&f, ANOGAN_MODE_HYBRID, 5, 4);
  run (s, &f, NULL, &(AnoganSearchOutputs) { .results = hybrid });
  anogan_search_free (s);
  s = new_mode_search (&f, ANOGAN_MODE_OPTIMISE, 5, 4);
  run (s, &f, z, &(AnoganSearchOutputs) { .results = from_z });
  anogan_search_free (s);
  for (int p = 0; p < N_PATCHES; p++) {
    g_assert_cmpfloat (hybrid[p].score, ==, from_z[p].score);
    g_assert_cmpfloat (hybrid[p].score, <, start[p].score);
    g_assert_cmpint (hybrid[p].iterations, ==, 5);
  }
  g_free (z);
  fixture_clear (&f);
}

/* Element t of the trace is the score of a t-step search. */
static void
test_trace (void)
{
  const int steps[] = { 0, 1, 4, 12 }, length = 13;
  Fixture f;
  AnoganPatchResult results[N_PATCHES], shorter[N_PATCHES];
  AnoganSearchOutputs out = { .results = results };
  AnoganSearch *s;

  fixture_init (&f);
  out.trace = g_new (float, (gsize) length * N_PATCHES);
  s = new_search (&f, length - 1, 1, 3);
  run (s, &f, NULL, &out);
  anogan_search_free (s);
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++) {
    s = new_search (&f, steps[i], 1, 3);
    run (s, &f, NULL, &(AnoganSearchOutputs) { .results = shorter });
    anogan_search_free (s);
    for (int p = 0; p < N_PATCHES; p++)
      g_assert_cmpfloat (out.trace[p * length + steps[i]], ==,
          shorter[p].score);
  }
  for (int p = 0; p < N_PATCHES; p++)
    g_assert_cmpfloat (out.trace[p * length + length - 1], ==,
        results[p].score);
  g_free (out.trace);
  fixture_clear (&f);
}

/* A patch leaves its batch when it stops early: what it finds must not
 * depend on the company it kept, and the trace stays flat after it. */
static void
test_early_stop_alone_or_together (void)
{
  const int length = 61;
  Fixture f;
  AnoganSearchOptions o;
  AnoganPatchResult together[N_PATCHES], alone[N_PATCHES];
  AnoganSearchOutputs out = { .results = together };
  float *maps_together, *maps_alone;
  AnoganSearch *s;
  int stopped = 0;

  fixture_init (&f);
  anogan_search_options_init (&o);
  o.iterations = length - 1;
  o.patience = 2;
  o.tolerance = 0.01f;          /* some patches stop at once, some never */
  o.threads = 1;
  o.batch = 8;
  out.trace = g_new (float, (gsize) length * N_PATCHES);
  out.residual_map = maps_together = g_new (float, f.pixels * N_PATCHES);
  s = new_search_with (&f, &o);
  run (s, &f, NULL, &out);
  anogan_search_free (s);
  o.batch = 1;
  s = new_search_with (&f, &o);
  maps_alone = g_new (float, f.pixels * N_PATCHES);
  run (s, &f, NULL, &(AnoganSearchOutputs) { .results = alone,
        .residual_map = maps_alone });
  anogan_search_free (s);

  for (int p = 0; p < N_PATCHES; p++) {
    const float *trace = out.trace + p * length;
    int it = together[p].iterations;

    g_assert_cmpint (it, ==, alone[p].iterations);
    g_assert_cmpfloat_with_epsilon (together[p].score, alone[p].score,
        1e-5 * alone[p].score);
    stopped += it < length - 1;
    for (int t = it; t < length; t++)
      g_assert_cmpfloat (trace[t], ==, together[p].score);
  }
  for (gsize i = 0; i < f.pixels * N_PATCHES; i++)
    g_assert_cmpfloat_with_epsilon (maps_together[i], maps_alone[i], 1e-4);
  /* Some left early and some stayed: the batch really shrank. */
  g_assert_cmpint (stopped, >, 0);
  g_assert_cmpint (stopped, <, N_PATCHES);
  g_free (out.trace);
  g_free (maps_together);
  g_free (maps_alone);
  fixture_clear (&f);
}

static int
compare_floats (const void *a, const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;

  return (x > y) - (x < y);
}

/* Screened patches keep E(x) and its score; the others step as usual. */
static void
test_refine_above (void)
{
  Fixture f;
  AnoganSearchOptions o;
  AnoganPatchResult start[N_PATCHES], all[N_PATCHES], screened[N_PATCHES];
  float level, sorted[N_PATCHES];
  AnoganSearch *s;
  int refined = 0;

  fixture_init (&f);
  fixture_add_encoder (&f);
  s = new_mode_search (&f, ANOGAN_MODE_ENCODER, -1, 8);
  run (s, &f, NULL, &(AnoganSearchOutputs) { .results = start });
  anogan_search_free (s);
  for (int p = 0; p < N_PATCHES; p++)
    sorted[p] = start[p].score;
  qsort (sorted, N_PATCHES, sizeof (float), compare_floats);
  level = sorted[N_PATCHES / 2];

  s = new_mode_search (&f, ANOGAN_MODE_HYBRID, 6, 8);
  run (s, &f, NULL, &(AnoganSearchOutputs) { .results = all });
  anogan_search_free (s);
  anogan_search_options_init (&o);
  anogan_search_options_set_mode (&o, ANOGAN_MODE_HYBRID, 6);
  o.threads = 1;
  o.batch = 8;
  o.refine_above = level;
  s = new_search_with (&f, &o);
  run (s, &f, NULL, &(AnoganSearchOutputs) { .results = screened });
  anogan_search_free (s);

  for (int p = 0; p < N_PATCHES; p++) {
    if (start[p].score <= level) {
      g_assert_cmpint (screened[p].iterations, ==, 0);
      g_assert_cmpfloat (screened[p].score, ==, start[p].score);
    } else {
      refined++;
      g_assert_cmpint (screened[p].iterations, ==, 6);
      g_assert_cmpfloat_with_epsilon (screened[p].score, all[p].score,
          1e-5 * all[p].score);
    }
  }
  g_assert_cmpint (refined, ==, N_PATCHES - 1 - N_PATCHES / 2);
  fixture_clear (&f);
}

static void
test_modes (void)
{
  AnoganSearchOptions o;
  AnoganMode mode = ANOGAN_MODE_HYBRID;

  for (int m = ANOGAN_MODE_OPTIMISE; m <= ANOGAN_MODE_HYBRID; m++) {
    g_assert_true (anogan_mode_from_name (anogan_mode_name (m), &mode));
    g_assert_cmpint (mode, ==, m);
  }
  g_assert_false (anogan_mode_from_name ("fast", &mode));
  g_assert_false (anogan_mode_from_name (NULL, &mode));
  g_assert_cmpint (mode, ==, ANOGAN_MODE_HYBRID);

  anogan_search_options_init (&o);
  o.candidates = 16;
  anogan_search_options_set_mode (&o, ANOGAN_MODE_OPTIMISE, -1);
  g_assert_cmpint (o.iterations, ==, 500);
  g_assert_cmpint (o.candidates, ==, 16);
  anogan_search_options_set_mode (&o, ANOGAN_MODE_HYBRID, -1);
  g_assert_cmpint (o.z_init, ==, ANOGAN_Z_ENCODER);
  g_assert_cmpint (o.iterations, ==, ANOGAN_HYBRID_ITERATIONS);
  g_assert_cmpint (o.candidates, ==, 0);
  anogan_search_options_set_mode (&o, ANOGAN_MODE_ENCODER, 7);
  g_assert_cmpint (o.iterations, ==, 0);
  anogan_search_options_set_mode (&o, ANOGAN_MODE_OPTIMISE, 3);
  g_assert_cmpint (o.z_init, ==, ANOGAN_Z_ZERO);
  g_assert_cmpint (o.iterations, ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/search/score-is-loss-at-z", test_score_is_loss_at_z);
  g_test_add_func ("/search/first-step-follows-gradient",
      test_first_step_follows_gradient);
  g_test_add_func ("/search/loss-decreases", test_loss_decreases);
  g_test_add_func ("/search/threads-do-not-change-results",
      test_threads_do_not_change_results);
  g_test_add_func ("/search/outputs", test_outputs);
  g_test_add_func ("/search/l2-residual", test_l2_residual);
  g_test_add_func ("/search/early-stop", test_early_stop);
  g_test_add_func ("/search/random-starts", test_random_starts);
  g_test_add_func ("/search/candidates", test_candidates);
  g_test_add_func ("/search/bad-options", test_bad_options);
  g_test_add_data_func ("/search/encoder-start/image", GINT_TO_POINTER (0),
      test_encoder_start);
  g_test_add_data_func ("/search/encoder-start/features",
      GINT_TO_POINTER (1), test_encoder_start);
  g_test_add_func ("/search/hybrid-steps-from-encoder",
      test_hybrid_steps_from_encoder);
  g_test_add_func ("/search/trace", test_trace);
  g_test_add_func ("/search/early-stop-alone-or-together",
      test_early_stop_alone_or_together);
  g_test_add_func ("/search/refine-above", test_refine_above);
  g_test_add_func ("/search/modes", test_modes);
  return g_test_run ();
}
