/* anogan-search.c: AnoGAN's search of the latent space
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * For each patch x the search looks for the z whose G(z) is closest to x,
 * minimising L(z) = (1-λ)·Σ|x-G(z)| + λ·Σ|f(x)-f(G(z))| with Adam on z
 * alone (Schlegl et al., "Unsupervised Anomaly Detection with Generative
 * Adversarial Networks to Guide Marker Discovery", IPMI 2017).  f is the
 * output of an intermediate discriminator layer.
 *
 * Patches are searched in batches: one forward and backward pass of G and
 * of D[:K+1] per step serves the whole batch, so every convolution is one
 * large sgemm.  Batches are cut the same way whatever the thread count, and
 * random starts depend on the patch index alone, so the results do not
 * depend on how many workers share the work.
 *
 * The loss is far from convex in z: on a texture, G(z) draws a line of
 * mortar a few pixels off and Adam's steps from the origin never move it
 * across, because L1 has no gradient that points at a line it does not
 * overlap.  Starting from the best of many fixed candidates (a bank of
 * G(z) and f(G(z)) computed once per search) puts each patch in the right
 * basin for the cost of about one step: comparing a patch with a
 * candidate is a subtraction per pixel and feature, not a network pass.
 *
 * A model with an encoder E (f-AnoGAN: Schlegl et al., "f-AnoGAN: Fast
 * unsupervised anomaly detection with generative adversarial networks",
 * Medical Image Analysis 54, 2019) gives the start in one forward pass:
 * z = E(x).  With no steps after it the score is the loss at E(x), the
 * encoder's one-pass anomaly score; a few steps after it refine z where E
 * missed.
 */
#include "anogan-search.h"
#include "anogan-adam.h"
#include "anogan-random.h"

#include <cblas.h>
#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS 1e-8

/* One worker's share: workspaces and buffers for one batch, planned once. */
typedef struct {
  AnoganNetWorkspace *g_ws;
  AnoganNetWorkspace *d_ws;
  AnoganNetWorkspace *e_ws;     /* with an encoder start only */
  float *block;                 /* the one allocation behind what follows */
  float *z, *dz, *adam_m, *adam_v;      /* [nz][B] */
  float *x;                     /* [C][B][H][W] */
  float *grad_gz;               /* [C][B][H][W] */
  float *f_x;                   /* [F][B]... features of x */
  float *grad_f;                /* same shape as f_x */
  double *residual, *discrimination;    /* [B] */
  double *best_loss;            /* [B] */
  int *stalled, *iterations;    /* [B] */
  int *slot;                    /* [B]: each position's patch in the batch */
  gboolean *keep;               /* [B] */
  gsize bytes;
} Worker;

struct _AnoganSearch {
  const AnoganModel *model;
  AnoganSearchOptions options;
  float lambda;
  int d_layers;                 /* K+1 */
  int n_pixels;                 /* C·H·W of a patch */
  int channels;                 /* C */
  gsize plane;                  /* H·W */
  int n_features;               /* size of f for one sample */
  int f_channels;               /* f's channels (or features) */
  gsize f_plane;                /* f's H·W (or 1) */

  /* The candidates' z, G(z) and f(G(z)), one candidate after the other:
   * [K][nz], [K][C·H·W], [K][F]; in one allocation. */
  int n_candidates;
  float *bank_z, *bank_gz, *bank_f;

  int n_workers;
  Worker *workers;
  GThreadPool *pool;

  /* The run in progress. */
  GMutex lock;
  GCond finished;
  int jobs_left;
  gint next_batch;
  int n_batches;
  int n_patches;
  const float *patches;
  const float *z_start;
  AnoganSearchOutputs *out;
};

/**
 * anogan_search_options_init:
 * @options: options to fill in
 *
 * Sets the defaults: 500 iterations (as in the AnoGAN paper), learning
 * rate 0.01, the model's λ, L1 residual, z from zero, no early stop, one
 * thread per core and batches of 8 patches (the fastest for dcgan64 and
 * within a few per cent of the fastest for dcgan32, in half the memory of
 * 16).
 */
void
anogan_search_options_init (AnoganSearchOptions *options)
{
  memset (options, 0, sizeof *options);
  options->iterations = 500;
  options->learning_rate = 0.01f;
  options->lambda = -1.0f;
  options->loss = ANOGAN_LOSS_L1;
  options->z_init = ANOGAN_Z_ZERO;
  options->seed = 0;
  options->candidates = 0;
  options->patience = 0;
  options->tolerance = 1e-3f;
  options->refine_above = -1.0f;
  options->threads = 0;
  options->batch = 8;
}

/**
 * anogan_search_options_set_mode:
 * @options: options to change
 * @mode: the search mode
 * @iterations: Adam steps, or -1 for the mode's default (500 to optimise,
 *   %ANOGAN_HYBRID_ITERATIONS in hybrid mode); ignored by the encoder mode
 *
 * Sets where z starts and how many steps follow, as @mode does it.  The
 * optimising mode keeps @options' start (z_init and candidates); the
 * encoder modes start from E(x) and use no candidates.
 */
void
anogan_search_options_set_mode (AnoganSearchOptions *options,
    AnoganMode mode, int iterations)
{
  g_return_if_fail (options != NULL);

  switch (mode) {
    case ANOGAN_MODE_OPTIMISE:
      if (options->z_init == ANOGAN_Z_ENCODER)
        options->z_init = ANOGAN_Z_ZERO;
      options->iterations = iterations < 0 ? 500 : iterations;
      break;
    case ANOGAN_MODE_ENCODER:
      options->z_init = ANOGAN_Z_ENCODER;
      options->candidates = 0;
      options->iterations = 0;
      break;
    case ANOGAN_MODE_HYBRID:
      options->z_init = ANOGAN_Z_ENCODER;
      options->candidates = 0;
      options->iterations = iterations < 0 ? ANOGAN_HYBRID_ITERATIONS
          : iterations;
      break;
  }
}

static const char *const mode_names[] = { "optimise", "encoder", "hybrid" };

/**
 * anogan_mode_name:
 * @mode: a mode
 *
 * Returns: (transfer none): "optimise", "encoder" or "hybrid", as the
 *   tools, the element and the model card spell it
 */
const char *
anogan_mode_name (AnoganMode mode)
{
  g_return_val_if_fail (mode >= ANOGAN_MODE_OPTIMISE
      && mode <= ANOGAN_MODE_HYBRID, NULL);
  return mode_names[mode];
}

/**
 * anogan_mode_from_name:
 * @name: "optimise", "encoder" or "hybrid"
 * @mode: (out): the mode
 *
 * Returns: %FALSE, leaving @mode alone, if @name is none of them
 */
gboolean
anogan_mode_from_name (const char *name, AnoganMode *mode)
{
  for (guint i = 0; name && i < G_N_ELEMENTS (mode_names); i++) {
    if (strcmp (name, mode_names[i]) == 0) {
      *mode = (AnoganMode) i;
      return TRUE;
    }
  }
  return FALSE;
}

static gboolean
check_options (const AnoganSearchOptions *o, GError **error)
{
  const char *problem = NULL;

  if (o->iterations < 0 || o->iterations > 1000000)
    problem = "iterations must be between 0 and 1000000";
  else if (!(o->learning_rate > 0.0f) || !isfinite (o->learning_rate))
    problem = "the learning rate must be a positive number";
  else if (!(o->lambda <= 1.0f) || isnan (o->lambda))
    problem = "lambda must be at most 1 (or negative for the model's)";
  else if (o->loss != ANOGAN_LOSS_L1 && o->loss != ANOGAN_LOSS_L2)
    problem = "unknown residual loss";
  else if (o->z_init < ANOGAN_Z_ZERO || o->z_init > ANOGAN_Z_ENCODER)
    problem = "unknown z initialisation";
  else if (o->candidates < 0 || o->candidates > 65536)
    problem = "candidates must be between 0 and 65536";
  else if (o->candidates > 0 && o->z_init == ANOGAN_Z_ENCODER)
    problem = "a search starts from candidates or from the encoder, "
        "not both";
  else if (o->patience < 0)
    problem = "patience must not be negative";
  else if (!(o->tolerance >= 0.0f) || !isfinite (o->tolerance))
    problem = "tolerance must be a non-negative number";
  else if (isnan (o->refine_above))
    problem = "refine_above must be a number";
  else if (o->threads < 0 || o->threads > 1024)
    problem = "threads must be between 0 and 1024";
  else if (o->batch < 1 || o->batch > 4096)
    problem = "batch must be between 1 and 4096";

  if (problem)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        problem);
  return problem == NULL;
}

/* ---------------------------------------------------------------------- */
/* Random starts: splitmix64 seeded by (seed, patch), so a patch starts at
 * the same z whichever batch or thread it lands in. */

static void
draw_start (AnoganZInit init, guint64 seed, int patch, float *z, int nz,
    int stride)
{
  guint64 state = seed ^ (0xD1B54A32D192ED03ull * (guint64) (patch + 1));

  for (int i = 0; i < nz; i++) {
    double v = 0.0;

    if (init == ANOGAN_Z_NORMAL)
      v = anogan_random_normal (&state);
    else if (init == ANOGAN_Z_UNIFORM)
      v = 2.0 * anogan_random_uniform (&state) - 1.0;
    z[(gsize) i * stride] = (float) v;
  }
}

/* ---------------------------------------------------------------------- */
/* The bank of candidate starts. */

/* Candidate 0 is the origin, the others draws from z's prior N(0, 1) on a
 * stream of their own, so the bank depends on the seed alone. */
static void
draw_candidate (guint64 seed, int k, float *z, int nz)
{
  guint64 state = seed ^ (0x9E3779B97F4A7C15ull * (guint64) (k + 1))
      ^ 0x5851F42D4C957F2Dull;

  for (int i = 0; i < nz; i++)
    z[i] = k == 0 ? 0.0f : (float) anogan_random_normal (&state);
}

/* G and f of every candidate, a worker's batch at a time, with worker 0's
 * workspaces before any search runs. */
static void
fill_bank (AnoganSearch *s)
{
  const AnoganModel *m = s->model;
  const int nz = m->nz, batch = s->options.batch;
  Worker *w = &s->workers[0];

  for (int first = 0; first < s->n_candidates; first += batch) {
    const int n = MIN (batch, s->n_candidates - first);
    const float *gz, *f_gz;

    for (int k = 0; k < n; k++) {
      float *z = s->bank_z + (gsize) (first + k) * nz;

      draw_candidate (s->options.seed, first + k, z, nz);
      cblas_scopy (nz, z, 1, w->z + k, n);
    }
    gz = anogan_net_forward (&m->generator, w->g_ws, n, w->z);
    anogan_cnhw_to_nchw (gz, s->bank_gz + (gsize) first * s->n_pixels, n,
        s->channels, s->plane);
    f_gz = anogan_net_forward (&m->discriminator, w->d_ws, n, gz);
    anogan_cnhw_to_nchw (f_gz, s->bank_f + (gsize) first * s->n_features, n,
        s->f_channels, s->f_plane);
  }
}

/* Σ|a - b| (or Σ(a - b)²) over @count floats of @a, contiguous, and of @b,
 * every @b_stride-th run of @run floats; stops early once past @bound. */
static double
distance (const float *a, const float *b, gsize count, gsize run,
    gsize b_stride, gboolean l1, double bound)
{
  double sum = 0.0;

  for (gsize start = 0; start < count && sum <= bound; start += run) {
    const float *pa = a + start, *pb = b + start / run * b_stride;

    for (gsize i = 0; i < run; i++) {
      float d = pa[i] - pb[i];

      sum += l1 ? fabsf (d) : (double) d * d;
    }
  }
  return sum;
}

/* The candidate with the lowest loss for patch @b of the batch in @w:
 * the first of them on a tie, whichever thread asks. */
static const float *
best_candidate (AnoganSearch *s, Worker *w, int n, int b)
{
  const gboolean l1 = s->options.loss == ANOGAN_LOSS_L1;
  const double wr = 1.0 - s->lambda, wd = s->lambda;
  /* x and f(x) are channel-major, [C][n][plane]: patch b's values are runs
   * of one plane, n planes apart. */
  const float *x = w->x + (gsize) b * s->plane;
  const float *f_x = w->f_x + (gsize) b * s->f_plane;
  double best = INFINITY;
  int chosen = 0;

  for (int k = 0; k < s->n_candidates; k++) {
    double loss = wr * distance (s->bank_gz + (gsize) k * s->n_pixels, x,
        s->n_pixels, s->plane, n * s->plane, l1, wr > 0 ? best / wr
        : INFINITY);

    if (loss < best)
      loss += wd * distance (s->bank_f + (gsize) k * s->n_features, f_x,
          s->n_features, s->f_plane, n * s->f_plane, TRUE, wd > 0
          ? (best - loss) / wd : INFINITY);
    if (loss < best) {
      best = loss;
      chosen = k;
    }
  }
  return s->bank_z + (gsize) chosen * s->model->nz;
}

/* ---------------------------------------------------------------------- */

static void
worker_init (Worker *w, AnoganSearch *s, int batch)
{
  const AnoganModel *m = s->model;
  const AnoganNet *g = &m->generator, *d = &m->discriminator;
  gsize nz = m->nz, pix = s->n_pixels, feat = s->n_features, n = batch;
  const AnoganNet *e = &m->encoder;
  const gboolean encoder = s->options.z_init == ANOGAN_Z_ENCODER;
  /* G, D and E take turns, so their transient buffers are one. */
  gsize transient = MAX (
      anogan_net_workspace_transient_floats (g, g->n_layers, batch),
      anogan_net_workspace_transient_floats (d, s->d_layers, batch));

  if (encoder)
    transient = MAX (transient,
        anogan_net_workspace_transient_floats (e, e->n_layers, batch));
  gsize floats = 4 * nz * n + 2 * pix * n + 2 * feat * n + transient;
  float *p;

  w->block = p = g_new0 (float, floats);
  w->z = p, p += nz * n;
  w->dz = p, p += nz * n;
  w->adam_m = p, p += nz * n;
  w->adam_v = p, p += nz * n;
  w->x = p, p += pix * n;
  w->grad_gz = p, p += pix * n;
  w->f_x = p, p += feat * n;
  w->grad_f = p, p += feat * n;
  w->g_ws = anogan_net_workspace_new_lent (g, g->n_layers, batch,
      ANOGAN_NET_INFERENCE, p);
  w->d_ws = anogan_net_workspace_new_lent (d, s->d_layers, batch,
      ANOGAN_NET_INFERENCE, p);
  if (encoder)
    w->e_ws = anogan_net_workspace_new_lent (e, e->n_layers, batch,
        ANOGAN_NET_INFERENCE, p);
  w->residual = g_new0 (double, n);
  w->discrimination = g_new0 (double, n);
  w->best_loss = g_new0 (double, n);
  w->stalled = g_new0 (int, n);
  w->iterations = g_new0 (int, n);
  w->slot = g_new0 (int, n);
  w->keep = g_new0 (gboolean, n);
  w->bytes = floats * sizeof (float) + n * (3 * sizeof (double)
      + 3 * sizeof (int) + sizeof (gboolean))
      + anogan_net_workspace_bytes (w->g_ws)
      + anogan_net_workspace_bytes (w->d_ws)
      + (w->e_ws ? anogan_net_workspace_bytes (w->e_ws) : 0);
}

static void
worker_clear (Worker *w)
{
  anogan_net_workspace_free (w->g_ws);
  anogan_net_workspace_free (w->d_ws);
  if (w->e_ws)
    anogan_net_workspace_free (w->e_ws);
  g_free (w->block);
  g_free (w->residual);
  g_free (w->discrimination);
  g_free (w->best_loss);
  g_free (w->stalled);
  g_free (w->iterations);
  g_free (w->slot);
  g_free (w->keep);
}

/* d/dt |t| is sign(t), with 0 at 0 as PyTorch has it. */
static inline float
sign_of (float t)
{
  return (float) ((t > 0.0f) - (t < 0.0f));
}

/* Σ|f(x) - f(G(z))| per patch, and its gradient λ·sign(f(G(z)) - f(x)). */
static void
discrimination_part (AnoganSearch *s, Worker *w, int n, const float *f_gz)
{
  for (int b = 0; b < n; b++)
    w->discrimination[b] = 0.0;
  /* Channel-major: [F][n][plane]. */
  for (int c = 0; c < s->f_channels; c++) {
    for (int b = 0; b < n; b++) {
      gsize base = ((gsize) c * n + b) * s->f_plane;
      double sum = 0.0;

      for (gsize i = 0; i < s->f_plane; i++) {
        float d = f_gz[base + i] - w->f_x[base + i];
        sum += fabsf (d);
        w->grad_f[base + i] = s->lambda * sign_of (d);
      }
      w->discrimination[b] += sum;
    }
  }
}

/* Σ|x - G(z)| (or Σ(x - G(z))²) per patch; with @add_gradient its
 * gradient, times 1-λ, is added to w->grad_gz. */
static void
residual_part (AnoganSearch *s, Worker *w, int n, const float *gz,
    gboolean add_gradient)
{
  const float weight = 1.0f - s->lambda;
  const gboolean l1 = s->options.loss == ANOGAN_LOSS_L1;

  for (int b = 0; b < n; b++)
    w->residual[b] = 0.0;
  for (int c = 0; c < s->channels; c++) {
    for (int b = 0; b < n; b++) {
      gsize base = ((gsize) c * n + b) * s->plane;
      const float *g = gz + base, *x = w->x + base;
      float *dg = w->grad_gz + base;
      double sum = 0.0;

      for (gsize i = 0; i < s->plane; i++) {
        float d = g[i] - x[i];

        sum += l1 ? fabsf (d) : (double) d * d;
        if (add_gradient)
          dg[i] += weight * (l1 ? sign_of (d) : 2.0f * d);
      }
      w->residual[b] += sum;
    }
  }
}

/* Losses of every patch at the current z, and with @with_gradient their
 * gradient with respect to z in w->dz.  Returns G(z), channel-major. */
static const float *
evaluate (AnoganSearch *s, Worker *w, int n, gboolean with_gradient)
{
  const AnoganModel *m = s->model;
  const float *gz, *f_gz;

  gz = anogan_net_forward (&m->generator, w->g_ws, n, w->z);
  f_gz = anogan_net_forward (&m->discriminator, w->d_ws, n, gz);
  discrimination_part (s, w, n, f_gz);
  if (with_gradient) {
    /* D's backward writes d(discrimination)/dG(z); the residual's
     * gradient is added on top, then G takes it back to z. */
    anogan_net_backward (&m->discriminator, w->d_ws, w->grad_f, w->grad_gz,
        NULL);
  }
  residual_part (s, w, n, gz, with_gradient);
  if (with_gradient)
    anogan_net_backward (&m->generator, w->g_ws, w->grad_gz, w->dz, NULL);
  return gz;
}

static double
loss_of (AnoganSearch *s, Worker *w, int b)
{
  return (1.0 - s->lambda) * w->residual[b] + s->lambda * w->discrimination[b];
}

/* One Adam step, as torch.optim.Adam takes it, on the live patches. */
static void
adam_step (AnoganSearch *s, Worker *w, int n, int t)
{
  const int nz = s->model->nz;
  const AnoganAdamStep adam = anogan_adam_step_new (
      s->options.learning_rate, ADAM_BETA1, ADAM_BETA2, ADAM_EPS, t);

  for (gsize k = 0; k < (gsize) nz * n; k++)
    anogan_adam_update (&adam, &w->z[k], &w->adam_m[k], &w->adam_v[k],
        w->dz[k]);
}

/* Early stop: a patch whose loss has not improved by the relative
 * tolerance for `patience` steps is marked for retirement (w->keep
 * cleared) and keeps its z; retire() takes it out of the batch. */
static void
update_patience (AnoganSearch *s, Worker *w, int n)
{
  for (int b = 0; b < n; b++) {
    double loss = loss_of (s, w, b);

    if (loss < w->best_loss[b] * (1.0 - s->options.tolerance)) {
      w->best_loss[b] = loss;
      w->stalled[b] = 0;
    } else if (++w->stalled[b] >= s->options.patience) {
      w->keep[b] = FALSE;
    }
  }
}

/* The hybrid screen: patches whose loss at the start is at most
 * refine_above are marked for retirement before their first step. */
static void
screen (AnoganSearch *s, Worker *w, int n)
{
  for (int b = 0; b < n; b++)
    w->keep[b] = loss_of (s, w, b) > s->options.refine_above;
}

static void
prepare_batch (AnoganSearch *s, Worker *w, int first, int n)
{
  const AnoganModel *m = s->model;
  const int nz = m->nz;
  const float *f_x;

  anogan_nchw_to_cnhw (s->patches + (gsize) first * s->n_pixels, w->x, n,
      s->channels, s->plane);
  f_x = anogan_net_forward (&m->discriminator, w->d_ws, n, w->x);
  memcpy (w->f_x, f_x, (gsize) s->n_features * n * sizeof (float));
  /* E's output, [nz][n] (or [nz][n][1][1]), is z's own layout. */
  if (w->e_ws && !s->z_start)
    memcpy (w->z, anogan_net_forward (&m->encoder, w->e_ws, n,
            m->encoder_reads_features ? w->f_x : w->x),
        (gsize) nz * n * sizeof (float));

  for (int b = 0; b < n; b++) {
    if (s->z_start)
      cblas_scopy (nz, s->z_start + (gsize) (first + b) * nz, 1, w->z + b, n);
    else if (w->e_ws)
      ;                         /* E(x) is in place */
    else if (s->n_candidates > 0)
      cblas_scopy (nz, best_candidate (s, w, n, b), 1, w->z + b, n);
    else
      draw_start (s->options.z_init, s->options.seed, first + b, w->z + b, nz,
          n);
    w->slot[b] = b;
    w->keep[b] = TRUE;
    w->best_loss[b] = INFINITY;
    w->stalled[b] = 0;
    w->iterations[b] = 0;
  }
  memset (w->adam_m, 0, (gsize) nz * n * sizeof (float));
  memset (w->adam_v, 0, (gsize) nz * n * sizeof (float));
}

/* Records the loss of the patches at positions [@from_b, @to_b) as the
 * loss after steps @from to @to (more than one when a patch stops early). */
static void
write_trace (AnoganSearch *s, Worker *w, int first, int from_b, int to_b,
    int from, int to)
{
  const int length = s->options.iterations + 1;

  if (!s->out->trace)
    return;
  for (int b = from_b; b < to_b; b++) {
    float *trace = s->out->trace + (gsize) (first + w->slot[b]) * length;
    float loss = (float) loss_of (s, w, b);

    for (int t = from; t <= to; t++)
      trace[t] = loss;
  }
}

/* Copies position @b of a channel-major batch [C][n][plane] out to an
 * NCHW patch. */
static void
gather_patch (const float *batch, float *patch, int n, int b, int channels,
    gsize plane)
{
  for (int c = 0; c < channels; c++)
    memcpy (patch + c * plane, batch + ((gsize) c * n + b) * plane,
        plane * sizeof (float));
}

/* Writes what the search found for the patch at position @b of @n live
 * ones, from the last evaluation: its loss parts, z and G(z) (@gz). */
static void
write_outputs (AnoganSearch *s, Worker *w, int first, int n, int b,
    const float *gz)
{
  const AnoganModel *m = s->model;
  AnoganSearchOutputs *out = s->out;
  const gsize patch = (gsize) (first + w->slot[b]);
  AnoganPatchResult *r = &out->results[patch];

  r->residual = (float) w->residual[b];
  r->discrimination = (float) w->discrimination[b];
  r->score = (float) loss_of (s, w, b);
  r->iterations = w->iterations[b];
  if (out->z)
    cblas_scopy (m->nz, w->z + b, n, out->z + patch * m->nz, 1);
  if (out->generated)
    gather_patch (gz, out->generated + patch * s->n_pixels, n, b,
        s->channels, s->plane);
  if (out->residual_map) {
    float *map = out->residual_map + patch * s->n_pixels;
    float *x = w->grad_gz;      /* free until the next gradient */

    gather_patch (gz, map, n, b, s->channels, s->plane);
    gather_patch (w->x, x, n, b, s->channels, s->plane);
    for (gsize i = 0; i < (gsize) s->n_pixels; i++)
      map[i] = fabsf (map[i] - x[i]);
  }
}

/* Keeps the columns of a channel-major batch [rows][n][run] whose w->keep
 * is set, packed into [rows][kept][run].  Every destination lies at or
 * before its source, so one forward pass works in place. */
static void
pack_columns (const Worker *w, float *a, int rows, int n, int kept, gsize run)
{
  for (int r = 0; r < rows; r++) {
    int j = 0;

    for (int b = 0; b < n; b++)
      if (w->keep[b])
        memmove (a + ((gsize) r * kept + j++) * run,
            a + ((gsize) r * n + b) * run, run * sizeof (float));
  }
}

/* Retires the patches whose w->keep is clear after the evaluation at step
 * @t: their results are final, so they are written out, and the live
 * ones are packed to the front, so that later passes cost nothing for
 * the retired.  Returns how many live on. */
static int
retire (AnoganSearch *s, Worker *w, int first, int n, int t, const float *gz)
{
  const int nz = s->model->nz;
  int kept = 0;

  for (int b = 0; b < n; b++) {
    if (w->keep[b]) {
      kept++;
      continue;
    }
    write_outputs (s, w, first, n, b, gz);
    write_trace (s, w, first, b, b + 1, t, s->options.iterations);
  }
  if (kept == n)
    return n;

  pack_columns (w, w->z, nz, n, kept, 1);
  pack_columns (w, w->dz, nz, n, kept, 1);
  pack_columns (w, w->adam_m, nz, n, kept, 1);
  pack_columns (w, w->adam_v, nz, n, kept, 1);
  pack_columns (w, w->x, s->channels, n, kept, s->plane);
  pack_columns (w, w->f_x, s->f_channels, n, kept, s->f_plane);
  for (int b = 0, j = 0; b < n; b++) {
    if (!w->keep[b])
      continue;
    w->slot[j] = w->slot[b];
    w->best_loss[j] = w->best_loss[b];
    w->stalled[j] = w->stalled[b];
    w->iterations[j] = w->iterations[b];
    w->keep[j++] = TRUE;
  }
  return kept;
}

/* Searches one batch.  Patches leave the batch when they are done (early
 * stop, or screened out by refine_above), so that the passes shrink with
 * it: positions 0..live-1 of every buffer hold the patches still moving. */
static void
search_batch (AnoganSearch *s, Worker *w, int index)
{
  const int first = index * s->options.batch;
  const int n = MIN (s->options.batch, s->n_patches - first);
  const int iterations = s->options.iterations;
  const gboolean early_stop = s->options.patience > 0;
  const float *gz;
  int live = n, t = 1;

  prepare_batch (s, w, first, n);
  if (iterations > 0 && s->options.refine_above >= 0.0f) {
    /* A forward pass decides; only the survivors pay for gradients. */
    gz = evaluate (s, w, live, FALSE);
    screen (s, w, live);
    live = retire (s, w, first, live, 0, gz);
  }
  for (; t <= iterations && live > 0; t++) {
    gz = evaluate (s, w, live, TRUE);
    write_trace (s, w, first, 0, live, t - 1, t - 1);
    if (early_stop) {
      update_patience (s, w, live);
      live = retire (s, w, first, live, t - 1, gz);
      if (live == 0)
        return;
    }
    adam_step (s, w, live, t);
    for (int b = 0; b < live; b++)
      w->iterations[b]++;
  }
  if (live == 0)
    return;
  /* The score is the loss at the final z. */
  gz = evaluate (s, w, live, FALSE);
  write_trace (s, w, first, 0, live, iterations, iterations);
  for (int b = 0; b < live; b++)
    write_outputs (s, w, first, live, b, gz);
}

static void
work (gpointer data, gpointer user_data)
{
  AnoganSearch *s = user_data;
  Worker *w = data;
  int index;

  while ((index = g_atomic_int_add (&s->next_batch, 1)) < s->n_batches)
    search_batch (s, w, index);

  g_mutex_lock (&s->lock);
  if (--s->jobs_left == 0)
    g_cond_signal (&s->finished);
  g_mutex_unlock (&s->lock);
}

/* ---------------------------------------------------------------------- */

/**
 * anogan_search_new:
 * @model: the model; it must outlive the search
 * @options: (nullable): settings, %NULL for the defaults
 * @error: return location for a #GError
 *
 * Prepares a search: validates @options, plans each worker's workspaces
 * once and starts the worker threads.  A search serves one
 * anogan_search_run() at a time.
 *
 * Returns: (transfer full) (nullable): the search, or %NULL with @error
 *   set (%G_IO_ERROR_INVALID_ARGUMENT) for bad options
 */
AnoganSearch *
anogan_search_new (const AnoganModel *model,
    const AnoganSearchOptions *options, GError **error)
{
  AnoganSearchOptions defaults;
  AnoganSearch *s;
  const AnoganShape *f_shape;

  g_return_val_if_fail (model != NULL, NULL);
  if (!options) {
    anogan_search_options_init (&defaults);
    options = &defaults;
  }
  if (!check_options (options, error))
    return NULL;
  if (options->z_init == ANOGAN_Z_ENCODER && !anogan_model_has_encoder (model)) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "%s has no encoder to start the search from", model->name);
    return NULL;
  }

  s = g_new0 (AnoganSearch, 1);
  s->model = model;
  s->options = *options;
  s->lambda = options->lambda < 0.0f ? model->lambda : options->lambda;
  s->d_layers = model->feature_layer + 1;
  f_shape = anogan_net_output_shape (&model->discriminator, s->d_layers);
  s->n_features = anogan_shape_numel (f_shape);
  s->f_channels = f_shape->dims[0];
  s->f_plane = s->n_features / s->f_channels;
  s->n_pixels = anogan_shape_numel (&model->input);
  s->channels = model->input.dims[0];
  s->plane = s->n_pixels / s->channels;
  g_mutex_init (&s->lock);
  g_cond_init (&s->finished);

  s->n_workers = options->threads > 0 ? options->threads
      : (int) g_get_num_processors ();
  s->options.threads = s->n_workers;
  s->workers = g_new0 (Worker, s->n_workers);
  for (int i = 0; i < s->n_workers; i++)
    worker_init (&s->workers[i], s, options->batch);

  /* Parallelism comes from the workers; OpenBLAS threads inside them would
   * only contend for the same cores. */
  openblas_set_num_threads (1);

  s->n_candidates = options->candidates;
  if (s->n_candidates > 0) {
    gsize nz = model->nz, k = s->n_candidates;

    s->bank_z = g_new (float, k * (nz + s->n_pixels + s->n_features));
    s->bank_gz = s->bank_z + k * nz;
    s->bank_f = s->bank_gz + k * s->n_pixels;
    fill_bank (s);
  }
  if (s->n_workers > 1)
    s->pool = g_thread_pool_new (work, s, s->n_workers, TRUE, NULL);
  return s;
}

/**
 * anogan_search_free:
 * @search: (transfer full) (nullable): a search
 *
 * Stops the worker threads and frees everything.
 */
void
anogan_search_free (AnoganSearch *search)
{
  if (!search)
    return;
  if (search->pool)
    g_thread_pool_free (search->pool, FALSE, TRUE);
  for (int i = 0; i < search->n_workers; i++)
    worker_clear (&search->workers[i]);
  g_free (search->workers);
  g_free (search->bank_z);
  g_mutex_clear (&search->lock);
  g_cond_clear (&search->finished);
  g_free (search);
}

/**
 * anogan_search_get_options:
 * @search: a search
 *
 * Returns: (transfer none): its options, with the thread count resolved
 */
const AnoganSearchOptions *
anogan_search_get_options (AnoganSearch *search)
{
  return &search->options;
}

/**
 * anogan_search_workspace_bytes:
 * @search: a search
 *
 * Returns: the memory all its workers' buffers take, in bytes
 */
gsize
anogan_search_workspace_bytes (AnoganSearch *search)
{
  gsize bytes = 0;

  for (int i = 0; i < search->n_workers; i++)
    bytes += search->workers[i].bytes;
  bytes += (gsize) search->n_candidates * (search->model->nz
      + search->n_pixels + search->n_features) * sizeof (float);
  return bytes;
}

/**
 * anogan_search_run:
 * @search: a search
 * @n_patches: number of patches
 * @patches: the patches, NCHW, in the model's range (x = v/127.5 - 1)
 * @z_start: (nullable): @n_patches × nz starting points, or %NULL to start
 *   as the options say (a warm start passes the previous z*)
 * @out: where the results go
 * @error: return location for a #GError
 *
 * Searches the latent space for every patch, on the worker threads, and
 * waits for all of them.
 *
 * Returns: %TRUE on success
 */
gboolean
anogan_search_run (AnoganSearch *search, int n_patches, const float *patches,
    const float *z_start, AnoganSearchOutputs *out, GError **error)
{
  int jobs;

  g_return_val_if_fail (search != NULL && out != NULL, FALSE);
  if (n_patches < 0 || (n_patches > 0 && (!patches || !out->results))) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
        "a search needs patches and somewhere to put its results");
    return FALSE;
  }
  if (n_patches == 0)
    return TRUE;

  search->n_patches = n_patches;
  search->patches = patches;
  search->z_start = z_start;
  search->out = out;
  search->n_batches = (n_patches + search->options.batch - 1)
      / search->options.batch;
  g_atomic_int_set (&search->next_batch, 0);

  jobs = MIN (search->n_workers, search->n_batches);
  if (!search->pool || jobs == 1) {
    search->jobs_left = 1;
    work (&search->workers[0], search);
    return TRUE;
  }

  g_mutex_lock (&search->lock);
  search->jobs_left = jobs;
  for (int i = 0; i < jobs; i++)
    g_thread_pool_push (search->pool, &search->workers[i], NULL);
  while (search->jobs_left > 0)
    g_cond_wait (&search->finished, &search->lock);
  g_mutex_unlock (&search->lock);
  return TRUE;
}
