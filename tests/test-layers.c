/* test-layers.c: every layer's forward against direct loops and its
 * backward against finite differences
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Tolerances:
 * - Forward against the direct double-precision loops: 1e-5 of the
 *   output's scale.  The sgemm sums at most a few hundred float products,
 *   whose rounding stays around 1e-6 relative.
 * - Backward against central differences: 1e-2 of the gradient's scale
 *   (anogan_test_max_scaled_error).  The loss is summed in double but each
 *   forward is float32, so each difference carries about 1e-6 / (2h) of
 *   rounding noise, and the smooth layers (Tanh, Sigmoid, BatchNorm in
 *   training) an O(h^2) truncation error; with h = 1e-2 both stay well
 *   below 1e-2, while a wrong index or a missing term gives errors of
 *   order 1.
 * - In-place runs are compared bit for bit: the same arithmetic in the
 *   same order must give the same floats.
 */
#include "anogan-layer.h"
#include "anogan-test-util.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define FD_STEP 1e-2f
#define FD_TOLERANCE 1e-2
#define FORWARD_TOLERANCE 1e-5

/* Inputs of ReLU and LeakyReLU stay this far from the kink at 0, beyond
 * the finite-difference step. */
#define KINK_MARGIN 0.05f

/* ---- One layer with its tensors and buffers ---- */

typedef struct {
  AnoganLayer layer;
  AnoganLayerParams params;
  int batch;
  gboolean training;
  guint64 dropout_seed;
  float *scratch;
  float *state;
  gsize in_n;                   /* floats of a whole input batch */
  gsize out_n;
} Case;

static AnoganShape
image_shape (int c, int h, int w)
{
  AnoganShape s = { 3, { c, h, w } };
  return s;
}

static AnoganShape
feature_shape (int f)
{
  AnoganShape s = { 1, { f, 1, 1 } };
  return s;
}

static gboolean
is_learned (AnoganParamKind kind)
{
  return kind == ANOGAN_PARAM_WEIGHT || kind == ANOGAN_PARAM_BIAS;
}

/* Weights in [-0.5, 0.5]; BatchNorm's scale near 1 and its running
 * variance positive, as after training. */
static void
fill_param (const AnoganLayer *layer, AnoganParamKind kind, float *t,
    gsize n, guint64 *rng)
{
  gboolean bn = layer->kind == ANOGAN_LAYER_BATCH_NORM1D
      || layer->kind == ANOGAN_LAYER_BATCH_NORM2D;

  if (bn && kind == ANOGAN_PARAM_WEIGHT)
    anogan_test_fill_uniform (t, n, rng, 0.5f, 1.5f);
  else if (kind == ANOGAN_PARAM_RUNNING_VAR)
    anogan_test_fill_uniform (t, n, rng, 0.5f, 2.0f);
  else
    anogan_test_fill_uniform (t, n, rng, -0.5f, 0.5f);
}

static Case *
case_new (const AnoganLayer *layer, AnoganShape in, int batch,
    gboolean training, guint64 seed)
{
  Case *c = g_new0 (Case, 1);
  guint64 rng = anogan_test_rng (seed);
  GError *error = NULL;

  c->layer = *layer;
  c->batch = batch;
  c->training = training;
  c->dropout_seed = anogan_test_rng (seed + 1000);
  if (!anogan_layer_set_input (&c->layer, &in, &error))
    g_error ("set_input: %s", error->message);
  for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
    gsize n = anogan_layer_param_floats (&c->layer, k);
    if (n == 0)
      continue;
    c->params.t[k] = g_new (float, n);
    fill_param (&c->layer, k, c->params.t[k], n, &rng);
  }
  /* Exactly the announced sizes, so that the sanitizer build catches a
   * layer that uses more. */
  c->scratch = g_new (float, anogan_layer_scratch_floats (&c->layer, batch));
  c->state = g_new (float, anogan_layer_state_floats (&c->layer, batch,
          training));
  c->in_n = anogan_shape_numel (&c->layer.in_shape) * batch;
  c->out_n = anogan_shape_numel (&c->layer.out_shape) * batch;
  return c;
}

static void
case_free (Case *c)
{
  for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++)
    g_free (c->params.t[k]);
  g_free (c->scratch);
  g_free (c->state);
  g_free (c);
}

/* Every forward of a case starts from the same random state, so Dropout
 * draws the same mask each time. */
static AnoganLayerRun
case_run (const Case *c)
{
  AnoganLayerRun run = {
    .batch = c->batch, .training = c->training,
    .scratch = c->scratch, .state = c->state, .rng = c->dropout_seed,
  };
  return run;
}

static void
case_forward (Case *c, const float *x, float *y)
{
  AnoganLayerRun run = case_run (c);
  anogan_layer_forward (&c->layer, &c->params, &run, x, y);
}

/* Backward after a forward on x, handing it x and y only when the layer
 * says it reads them. */
static void
case_backward (Case *c, const float *x, const float *y, const float *dy,
    float *dx, AnoganLayerParams *grads)
{
  AnoganLayerRun run = case_run (c);
  gboolean want_params = grads != NULL;

  if (!anogan_layer_backward_reads_input (&c->layer, c->training,
          want_params))
    x = NULL;
  if (!anogan_layer_backward_reads_output (&c->layer, c->training))
    y = NULL;
  anogan_layer_backward (&c->layer, &c->params, grads, &run, x, y, dy, dx);
}

static gboolean
has_kink (const AnoganLayer *layer)
{
  return layer->kind == ANOGAN_LAYER_RELU
      || layer->kind == ANOGAN_LAYER_LEAKY_RELU;
}

static float *
random_input (const Case *c, guint64 *rng)
{
  float *x = g_new (float, c->in_n);

  for (gsize i = 0; i < c->in_n; i++) {
    do
      x[i] = anogan_test_uniform (rng, -1.0f, 1.0f);
    while (has_kink (&c->layer) && fabsf (x[i]) < KINK_MARGIN);
  }
  return x;
}

/* ---- Finite differences ---- */

/* loss = sum w . layer(x), accumulated in double. */
static double
weighted_loss (Case *c, const float *x, const float *w, float *y)
{
  double loss = 0.0;

  case_forward (c, x, y);
  for (gsize i = 0; i < c->out_n; i++)
    loss += (double) w[i] * y[i];
  return loss;
}

/* d loss / d v[i] for every i by central differences; v is x or one of
 * the parameter tensors, restored afterwards. */
static void
central_differences (Case *c, float *v, gsize n, const float *x,
    const float *w, float *y, float *grad)
{
  for (gsize i = 0; i < n; i++) {
    float saved = v[i];
    double plus, minus;
    v[i] = saved + FD_STEP;
    plus = weighted_loss (c, x, w, y);
    v[i] = saved - FD_STEP;
    minus = weighted_loss (c, x, w, y);
    v[i] = saved;
    grad[i] = (float) ((plus - minus) / (2.0 * FD_STEP));
  }
}

static void
check_gradient (const char *config, const char *what, const float *got,
    const float *want, gsize n)
{
  char *label = g_strdup_printf ("%s d/d%s", config, what);
  anogan_test_assert_close (label, got, want, n, FD_TOLERANCE);
  g_free (label);
}

static void
zero_grads (Case *c, AnoganLayerParams *grads, float **storage)
{
  for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
    gsize n = is_learned (k) ? anogan_layer_param_floats (&c->layer, k) : 0;
    storage[k] = n ? g_new0 (float, n) : NULL;
    grads->t[k] = storage[k];
  }
}

/* Checks dx and every parameter gradient of one configuration, and that
 * asking for only some of them gives the same numbers. */
static void
check_layer_gradients (const char *config, const AnoganLayer *layer,
    AnoganShape in, int batch, gboolean training, guint64 seed)
{
  Case *c = case_new (layer, in, batch, training, seed);
  guint64 rng = anogan_test_rng (seed + 7);
  float *x = random_input (c, &rng);
  float *w = g_new (float, c->out_n);
  float *y = g_new (float, c->out_n);
  float *dx = g_new (float, c->in_n);
  float *dx_only = g_new (float, c->in_n);
  float *fd = g_new (float, c->in_n);
  float *storage[ANOGAN_N_PARAM_KINDS], *alone[ANOGAN_N_PARAM_KINDS];
  AnoganLayerParams grads, grads_alone;

  anogan_test_fill_uniform (w, c->out_n, &rng, -1.0f, 1.0f);
  zero_grads (c, &grads, storage);
  zero_grads (c, &grads_alone, alone);

  case_forward (c, x, y);
  case_backward (c, x, y, w, dx, &grads);
  case_forward (c, x, y);
  case_backward (c, x, y, w, dx_only, NULL);
  g_assert_cmpmem (dx, c->in_n * sizeof *dx, dx_only,
      c->in_n * sizeof *dx);
  case_forward (c, x, y);
  case_backward (c, x, y, w, NULL, &grads_alone);

  central_differences (c, x, c->in_n, x, w, y, fd);
  check_gradient (config, "x", dx, fd, c->in_n);

  for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
    gsize n = anogan_layer_param_floats (&c->layer, k);
    if (!is_learned (k) || n == 0)
      continue;
    fd = g_renew (float, fd, n);
    central_differences (c, c->params.t[k], n, x, w, y, fd);
    check_gradient (config, anogan_param_names[k], grads.t[k], fd, n);
    g_assert_cmpmem (grads.t[k], n * sizeof (float), alone[k],
        n * sizeof (float));
  }

  for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
    g_free (storage[k]);
    g_free (alone[k]);
  }
  g_free (x);
  g_free (w);
  g_free (y);
  g_free (dx);
  g_free (dx_only);
  g_free (fd);
  case_free (c);
}

/* ---- Configurations ---- */

typedef struct {
  int in_c, out_c, h, w;
  int kh, kw, sh, sw, ph, pw;
  int oph, opw;                 /* ConvTranspose2d only */
  gboolean bias;
  int batch;
} ConvConfig;

static const ConvConfig conv_configs[] = {
  /* in out  h  w  kh kw sh sw ph pw op   bias batch */
  { 2, 3, 5, 5, 1, 1, 1, 1, 0, 0, 0, 0, TRUE, 2 },      /* pointwise */
  { 2, 3, 6, 7, 3, 3, 1, 1, 1, 1, 0, 0, TRUE, 2 },
  { 3, 2, 8, 8, 4, 4, 2, 2, 1, 1, 0, 0, FALSE, 3 },     /* DCGAN down */
  { 2, 2, 7, 5, 3, 2, 2, 1, 2, 0, 0, 0, TRUE, 2 },      /* non-square */
  { 1, 2, 5, 6, 1, 1, 2, 2, 0, 0, 0, 0, TRUE, 3 },      /* 1x1, stride 2 */
  { 2, 3, 4, 4, 4, 4, 1, 1, 0, 0, 0, 0, FALSE, 2 },     /* to 1x1 */
  { 2, 2, 3, 5, 4, 3, 2, 3, 2, 1, 0, 0, TRUE, 2 },
};

static const ConvConfig conv_transpose_configs[] = {
  /* in out  h  w  kh kw sh sw ph pw  oph opw bias batch */
  { 3, 2, 1, 1, 4, 4, 1, 1, 0, 0, 0, 0, FALSE, 3 },     /* DCGAN z -> 4x4 */
  { 2, 3, 3, 4, 4, 4, 2, 2, 1, 1, 0, 0, FALSE, 2 },     /* DCGAN up */
  { 2, 2, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, TRUE, 2 },      /* output_padding */
  { 2, 2, 4, 5, 3, 2, 1, 3, 2, 0, 0, 2, TRUE, 2 },      /* non-square */
  { 3, 2, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, TRUE, 2 },      /* pointwise */
  { 2, 1, 3, 2, 1, 1, 2, 2, 0, 0, 1, 0, TRUE, 3 },      /* 1x1, stride 2 */
  { 1, 2, 2, 3, 5, 3, 3, 1, 2, 2, 2, 0, TRUE, 2 },
};

static AnoganLayer
conv_layer (AnoganLayerKind kind, const ConvConfig *cfg)
{
  AnoganLayer layer;

  anogan_layer_init (&layer, kind);
  layer.in_channels = cfg->in_c;
  layer.out_channels = cfg->out_c;
  layer.kernel[0] = cfg->kh;
  layer.kernel[1] = cfg->kw;
  layer.stride[0] = cfg->sh;
  layer.stride[1] = cfg->sw;
  layer.padding[0] = cfg->ph;
  layer.padding[1] = cfg->pw;
  layer.output_padding[0] = cfg->oph;
  layer.output_padding[1] = cfg->opw;
  layer.bias = cfg->bias;
  return layer;
}

static char *
conv_config_name (AnoganLayerKind kind, const ConvConfig *cfg)
{
  return g_strdup_printf ("%s %d->%d on %dx%d, kernel %dx%d stride %dx%d "
      "padding %dx%d output_padding %dx%d bias %d batch %d",
      anogan_layer_kind_name (kind), cfg->in_c, cfg->out_c, cfg->h, cfg->w,
      cfg->kh, cfg->kw, cfg->sh, cfg->sw, cfg->ph, cfg->pw, cfg->oph,
      cfg->opw, cfg->bias, cfg->batch);
}

static AnoganLayer
linear_layer (int in, int out, gboolean bias)
{
  AnoganLayer layer;

  anogan_layer_init (&layer, ANOGAN_LAYER_LINEAR);
  layer.in_channels = in;
  layer.out_channels = out;
  layer.bias = bias;
  return layer;
}

static AnoganLayer
batch_norm_layer (AnoganLayerKind kind, int channels, gboolean affine)
{
  AnoganLayer layer;

  anogan_layer_init (&layer, kind);
  layer.in_channels = channels;
  layer.affine = affine;
  return layer;
}

static AnoganLayer
simple_layer (AnoganLayerKind kind)
{
  AnoganLayer layer;

  anogan_layer_init (&layer, kind);
  return layer;
}

static AnoganLayer
leaky_relu_layer (float slope)
{
  AnoganLayer layer = simple_layer (ANOGAN_LAYER_LEAKY_RELU);
  layer.negative_slope = slope;
  return layer;
}

static AnoganLayer
upsample_layer (int scale)
{
  AnoganLayer layer = simple_layer (ANOGAN_LAYER_UPSAMPLE);
  layer.scale_factor = scale;
  return layer;
}

static AnoganLayer
zero_pad_layer (int left, int right, int top, int bottom)
{
  AnoganLayer layer = simple_layer (ANOGAN_LAYER_ZERO_PAD2D);
  layer.pad[0] = left;
  layer.pad[1] = right;
  layer.pad[2] = top;
  layer.pad[3] = bottom;
  return layer;
}

static AnoganLayer
dropout_layer (float p)
{
  AnoganLayer layer = simple_layer (ANOGAN_LAYER_DROPOUT);
  layer.p = p;
  return layer;
}

static AnoganLayer
unflatten_layer (AnoganShape to)
{
  AnoganLayer layer = simple_layer (ANOGAN_LAYER_UNFLATTEN);
  layer.unflattened = to;
  return layer;
}

/* ---- Finite-difference tests, one per family ---- */

static void
test_gradients_conv (AnoganLayerKind kind, const ConvConfig *configs,
    gsize n_configs)
{
  for (gsize i = 0; i < n_configs; i++) {
    const ConvConfig *cfg = &configs[i];
    AnoganLayer layer = conv_layer (kind, cfg);
    char *name = conv_config_name (kind, cfg);
    check_layer_gradients (name, &layer, image_shape (cfg->in_c, cfg->h,
            cfg->w), cfg->batch, FALSE, 100 + i);
    g_free (name);
  }
}

static void
test_gradients_conv2d (void)
{
  test_gradients_conv (ANOGAN_LAYER_CONV2D, conv_configs,
      G_N_ELEMENTS (conv_configs));
}

static void
test_gradients_conv_transpose2d (void)
{
  test_gradients_conv (ANOGAN_LAYER_CONV_TRANSPOSE2D, conv_transpose_configs,
      G_N_ELEMENTS (conv_transpose_configs));
}

static void
test_gradients_linear (void)
{
  AnoganLayer with_bias = linear_layer (5, 3, TRUE);
  AnoganLayer without = linear_layer (4, 6, FALSE);

  check_layer_gradients ("Linear 5->3 bias", &with_bias, feature_shape (5),
      3, FALSE, 1);
  check_layer_gradients ("Linear 4->6 no bias", &without, feature_shape (4),
      2, FALSE, 2);
}

static void
test_gradients_batch_norm (void)
{
  for (int training = 0; training <= 1; training++)
    for (int affine = 0; affine <= 1; affine++) {
      AnoganLayer bn1 = batch_norm_layer (ANOGAN_LAYER_BATCH_NORM1D, 4,
          affine);
      AnoganLayer bn2 = batch_norm_layer (ANOGAN_LAYER_BATCH_NORM2D, 3,
          affine);
      char *name1 = g_strdup_printf ("BatchNorm1d %s affine %d",
          training ? "training" : "eval", affine);
      char *name2 = g_strdup_printf ("BatchNorm2d %s affine %d",
          training ? "training" : "eval", affine);
      check_layer_gradients (name1, &bn1, feature_shape (4), 3, training,
          10 + affine);
      check_layer_gradients (name2, &bn2, image_shape (3, 3, 4), 2,
          training, 20 + affine);
      g_free (name1);
      g_free (name2);
    }
}

static void
test_gradients_activations (void)
{
  AnoganLayer relu = simple_layer (ANOGAN_LAYER_RELU);
  AnoganLayer leaky = leaky_relu_layer (0.2f);
  AnoganLayer leaky_negative = leaky_relu_layer (-0.3f);
  AnoganLayer leaky_flat = leaky_relu_layer (0.0f);
  AnoganLayer tanh_layer = simple_layer (ANOGAN_LAYER_TANH);
  AnoganLayer sigmoid = simple_layer (ANOGAN_LAYER_SIGMOID);

  check_layer_gradients ("ReLU", &relu, image_shape (2, 3, 4), 2, FALSE, 1);
  check_layer_gradients ("LeakyReLU 0.2", &leaky, image_shape (2, 3, 4), 2,
      FALSE, 2);
  check_layer_gradients ("LeakyReLU -0.3", &leaky_negative,
      feature_shape (7), 3, FALSE, 3);
  check_layer_gradients ("LeakyReLU 0", &leaky_flat, feature_shape (7), 3,
      FALSE, 4);
  check_layer_gradients ("Tanh", &tanh_layer, image_shape (2, 3, 4), 2,
      FALSE, 5);
  check_layer_gradients ("Sigmoid", &sigmoid, feature_shape (9), 3, FALSE,
      6);
}

static void
test_gradients_reshaping (void)
{
  AnoganLayer up2 = upsample_layer (2), up3 = upsample_layer (3);
  AnoganLayer pad = zero_pad_layer (1, 2, 0, 3);
  AnoganLayer flatten = simple_layer (ANOGAN_LAYER_FLATTEN);
  AnoganLayer to_image = unflatten_layer (image_shape (2, 3, 2));
  AnoganLayer to_features = unflatten_layer (feature_shape (6));

  check_layer_gradients ("Upsample x2", &up2, image_shape (2, 3, 4), 2,
      FALSE, 1);
  check_layer_gradients ("Upsample x3", &up3, image_shape (1, 2, 3), 3,
      FALSE, 2);
  check_layer_gradients ("ZeroPad2d (1,2,0,3)", &pad, image_shape (2, 3, 2),
      2, FALSE, 3);
  check_layer_gradients ("Flatten [2,3,4]", &flatten, image_shape (2, 3, 4),
      3, FALSE, 4);
  check_layer_gradients ("Flatten [5]", &flatten, feature_shape (5), 2,
      FALSE, 5);
  check_layer_gradients ("Unflatten [12] -> [2,3,2]", &to_image,
      feature_shape (12), 3, FALSE, 6);
  check_layer_gradients ("Unflatten [6] -> [6]", &to_features,
      feature_shape (6), 2, FALSE, 7);
}

static void
test_gradients_dropout (void)
{
  AnoganLayer dropout = dropout_layer (0.3f);
  AnoganLayer all = dropout_layer (1.0f);

  check_layer_gradients ("Dropout 0.3 training", &dropout,
      image_shape (2, 3, 4), 2, TRUE, 1);
  check_layer_gradients ("Dropout 0.3 eval", &dropout, feature_shape (10),
      3, FALSE, 2);
  check_layer_gradients ("Dropout 1 training", &all, feature_shape (10), 3,
      TRUE, 3);
}

/* ---- Forward against direct loops ---- */

static gsize
image_index (int c, int n, int y, int x, int batch, int h, int w)
{
  return (((gsize) c * batch + n) * h + y) * w + x;
}

/* Conv2d straight from the definition: y[co][n][oy][ox] = b[co] +
 * sum over ci, ky, kx of W[co][ci][ky][kx] x[ci][n][oy*s - p + ky][...]. */
static void
conv2d_direct (const AnoganLayer *l, const AnoganLayerParams *params,
    int batch, const float *x, double *y)
{
  int h = l->in_shape.dims[1], w = l->in_shape.dims[2];
  int oh = l->out_shape.dims[1], ow = l->out_shape.dims[2];
  const float *wt = params->t[ANOGAN_PARAM_WEIGHT];

  for (int co = 0; co < l->out_channels; co++)
    for (int n = 0; n < batch; n++)
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          double sum = l->bias ? params->t[ANOGAN_PARAM_BIAS][co] : 0.0;
          for (int ci = 0; ci < l->in_channels; ci++)
            for (int ky = 0; ky < l->kernel[0]; ky++)
              for (int kx = 0; kx < l->kernel[1]; kx++) {
                int iy = oy * l->stride[0] - l->padding[0] + ky;
                int ix = ox * l->stride[1] - l->padding[1] + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                  continue;
                sum += (double) wt[((co * l->in_channels + ci)
                        * l->kernel[0] + ky) * l->kernel[1] + kx]
                    * x[image_index (ci, n, iy, ix, batch, h, w)];
              }
          y[image_index (co, n, oy, ox, batch, oh, ow)] = sum;
        }
}

/* ConvTranspose2d as PyTorch defines it: each input pixel scatters
 * W[ci][co] into the output at (iy*s - p + ky, ix*s - p + kx). */
static void
conv_transpose2d_direct (const AnoganLayer *l,
    const AnoganLayerParams *params, int batch, const float *x, double *y)
{
  int h = l->in_shape.dims[1], w = l->in_shape.dims[2];
  int oh = l->out_shape.dims[1], ow = l->out_shape.dims[2];
  const float *wt = params->t[ANOGAN_PARAM_WEIGHT];

  for (int co = 0; co < l->out_channels; co++)
    for (int n = 0; n < batch; n++)
      for (int i = 0; i < oh * ow; i++)
        y[image_index (co, n, 0, i, batch, oh, ow)] =
            l->bias ? params->t[ANOGAN_PARAM_BIAS][co] : 0.0;
  for (int ci = 0; ci < l->in_channels; ci++)
    for (int n = 0; n < batch; n++)
      for (int iy = 0; iy < h; iy++)
        for (int ix = 0; ix < w; ix++)
          for (int co = 0; co < l->out_channels; co++)
            for (int ky = 0; ky < l->kernel[0]; ky++)
              for (int kx = 0; kx < l->kernel[1]; kx++) {
                int oy = iy * l->stride[0] - l->padding[0] + ky;
                int ox = ix * l->stride[1] - l->padding[1] + kx;
                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow)
                  continue;
                y[image_index (co, n, oy, ox, batch, oh, ow)] +=
                    (double) wt[((ci * l->out_channels + co)
                        * l->kernel[0] + ky) * l->kernel[1] + kx]
                    * x[image_index (ci, n, iy, ix, batch, h, w)];
              }
}

static void
linear_direct (const AnoganLayer *l, const AnoganLayerParams *params,
    int batch, const float *x, double *y)
{
  for (int o = 0; o < l->out_channels; o++)
    for (int n = 0; n < batch; n++) {
      double sum = l->bias ? params->t[ANOGAN_PARAM_BIAS][o] : 0.0;
      for (int i = 0; i < l->in_channels; i++)
        sum += (double) params->t[ANOGAN_PARAM_WEIGHT][o * l->in_channels + i]
            * x[i * batch + n];
      y[o * batch + n] = sum;
    }
}

typedef void (*DirectForward) (const AnoganLayer *l,
    const AnoganLayerParams *params, int batch, const float *x, double *y);

static void
check_forward (const char *config, const AnoganLayer *layer, AnoganShape in,
    int batch, DirectForward direct, guint64 seed)
{
  Case *c = case_new (layer, in, batch, FALSE, seed);
  guint64 rng = anogan_test_rng (seed + 3);
  float *x = random_input (c, &rng);
  float *y = g_new (float, c->out_n);
  double *want = g_new (double, c->out_n);
  float *want_f = g_new (float, c->out_n);

  /* Garbage in y: the layer must overwrite, not accumulate. */
  anogan_test_fill_uniform (y, c->out_n, &rng, 100.0f, 200.0f);
  case_forward (c, x, y);
  direct (&c->layer, &c->params, batch, x, want);
  for (gsize i = 0; i < c->out_n; i++)
    want_f[i] = (float) want[i];
  anogan_test_assert_close (config, y, want_f, c->out_n, FORWARD_TOLERANCE);

  g_free (x);
  g_free (y);
  g_free (want);
  g_free (want_f);
  case_free (c);
}

static void
test_forward_conv (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (conv_configs); i++) {
    const ConvConfig *cfg = &conv_configs[i];
    AnoganLayer layer = conv_layer (ANOGAN_LAYER_CONV2D, cfg);
    char *name = conv_config_name (layer.kind, cfg);
    check_forward (name, &layer, image_shape (cfg->in_c, cfg->h, cfg->w),
        cfg->batch, conv2d_direct, 200 + i);
    g_free (name);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (conv_transpose_configs); i++) {
    const ConvConfig *cfg = &conv_transpose_configs[i];
    AnoganLayer layer = conv_layer (ANOGAN_LAYER_CONV_TRANSPOSE2D, cfg);
    char *name = conv_config_name (layer.kind, cfg);
    check_forward (name, &layer, image_shape (cfg->in_c, cfg->h, cfg->w),
        cfg->batch, conv_transpose2d_direct, 300 + i);
    g_free (name);
  }
}

/* A DCGAN-sized pair, where the sgemm runs over hundreds of terms. */
static void
test_forward_conv_large (void)
{
  ConvConfig down = { 16, 32, 16, 16, 4, 4, 2, 2, 1, 1, 0, 0, FALSE, 4 };
  ConvConfig up = { 32, 16, 8, 8, 4, 4, 2, 2, 1, 1, 0, 0, TRUE, 4 };
  AnoganLayer conv = conv_layer (ANOGAN_LAYER_CONV2D, &down);
  AnoganLayer convt = conv_layer (ANOGAN_LAYER_CONV_TRANSPOSE2D, &up);

  check_forward ("Conv2d 16->32 16x16", &conv, image_shape (16, 16, 16), 4,
      conv2d_direct, 1);
  check_forward ("ConvTranspose2d 32->16 8x8", &convt,
      image_shape (32, 8, 8), 4, conv_transpose2d_direct, 2);
}

/* ---- Column matrices built a chunk of samples at a time ----
 *
 * Layers whose column matrix for one sample exceeds the scratch budget
 * build it sample by sample.  Forward is checked against the direct loops;
 * backward with the adjoint identities of a linear map, which hold to
 * rounding whatever the size: <L(x), dy> = <x, dx> and, without bias,
 * <L_W(x), dy> = <W, dW>. */

static double
dot (const float *a, const float *b, gsize n)
{
  double sum = 0.0;
  for (gsize i = 0; i < n; i++)
    sum += (double) a[i] * b[i];
  return sum;
}

static double
norm (const float *a, gsize n)
{
  return sqrt (dot (a, a, n));
}

static void
check_chunked (const char *config, const AnoganLayer *layer, AnoganShape in,
    DirectForward direct)
{
  const int batch = 3;
  Case *c = case_new (layer, in, batch, FALSE, 77);
  guint64 rng = anogan_test_rng (78);
  float *x = random_input (c, &rng);
  float *y = g_new (float, c->out_n), *dy = g_new (float, c->out_n);
  float *dx = g_new (float, c->in_n);
  gsize n_w = anogan_layer_param_floats (&c->layer, ANOGAN_PARAM_WEIGHT);
  float *dw = g_new0 (float, n_w);
  AnoganLayerParams grads = { { dw, NULL, NULL, NULL } };
  const float *w = c->params.t[ANOGAN_PARAM_WEIGHT];
  double lhs, rhs;

  /* The point of the case: less scratch than one whole batch's columns. */
  g_assert_cmpuint (anogan_layer_scratch_floats (&c->layer, batch), <,
      anogan_layer_scratch_floats (&c->layer, 1) * batch);
  check_forward (config, layer, in, batch, direct, 77);

  anogan_test_fill_uniform (dy, c->out_n, &rng, -1, 1);
  case_forward (c, x, y);
  case_backward (c, x, y, dy, dx, &grads);
  lhs = dot (y, dy, c->out_n);
  rhs = dot (x, dx, c->in_n);
  g_test_message ("%s: <y,dy> %.9g <x,dx> %.9g", config, lhs, rhs);
  g_assert_cmpfloat (fabs (lhs - rhs), <=,
      1e-5 * norm (y, c->out_n) * norm (dy, c->out_n));
  rhs = dot (w, dw, n_w);
  g_assert_cmpfloat (fabs (lhs - rhs), <=,
      1e-5 * norm (y, c->out_n) * norm (dy, c->out_n));

  g_free (x);
  g_free (y);
  g_free (dy);
  g_free (dx);
  g_free (dw);
  case_free (c);
}

static void
test_chunked_columns (void)
{
  /* 128 rows x 95x95 positions and 256 rows x 64x64 positions: over a
   * million floats a sample, so every sample is a chunk of its own. */
  ConvConfig down = { 8, 4, 96, 96, 4, 4, 1, 1, 1, 1, 0, 0, FALSE, 3 };
  ConvConfig up = { 4, 16, 64, 64, 4, 4, 2, 2, 1, 1, 0, 0, FALSE, 3 };
  AnoganLayer conv = conv_layer (ANOGAN_LAYER_CONV2D, &down);
  AnoganLayer convt = conv_layer (ANOGAN_LAYER_CONV_TRANSPOSE2D, &up);

  check_chunked ("Conv2d 8->4 96x96", &conv, image_shape (8, 96, 96),
      conv2d_direct);
  check_chunked ("ConvTranspose2d 4->16 64x64", &convt,
      image_shape (4, 64, 64), conv_transpose2d_direct);
}

static void
test_forward_linear (void)
{
  AnoganLayer with_bias = linear_layer (7, 5, TRUE);
  AnoganLayer without = linear_layer (300, 4, FALSE);

  check_forward ("Linear 7->5", &with_bias, feature_shape (7), 3,
      linear_direct, 1);
  check_forward ("Linear 300->4", &without, feature_shape (300), 2,
      linear_direct, 2);
}

/* The parameter-free layers against their definitions, element by
 * element (exact: they only move or map single values). */
static void
test_forward_simple_layers (void)
{
  int batch = 2, c = 2, h = 3, w = 4;
  AnoganLayer up = upsample_layer (2), pad = zero_pad_layer (1, 2, 0, 3);
  AnoganLayer flatten = simple_layer (ANOGAN_LAYER_FLATTEN);
  AnoganLayer unflatten = unflatten_layer (image_shape (c, h, w));
  Case *cu = case_new (&up, image_shape (c, h, w), batch, FALSE, 1);
  Case *cp = case_new (&pad, image_shape (c, h, w), batch, FALSE, 2);
  Case *cf = case_new (&flatten, image_shape (c, h, w), batch, FALSE, 3);
  Case *cn = case_new (&unflatten, feature_shape (c * h * w), batch, FALSE,
      4);
  guint64 rng = anogan_test_rng (5);
  float *x = random_input (cu, &rng);
  float *yu = g_new (float, cu->out_n), *yp = g_new (float, cp->out_n);
  float *yf = g_new (float, cf->out_n), *yn = g_new (float, cn->out_n);

  case_forward (cu, x, yu);
  case_forward (cp, x, yp);
  case_forward (cf, x, yf);
  case_forward (cn, yf, yn);
  g_assert_cmpint (cp->layer.out_shape.dims[1], ==, h + 3);
  g_assert_cmpint (cp->layer.out_shape.dims[2], ==, w + 3);
  for (int ci = 0; ci < c; ci++)
    for (int n = 0; n < batch; n++)
      for (int y = 0; y < h; y++)
        for (int xx = 0; xx < w; xx++) {
          float v = x[image_index (ci, n, y, xx, batch, h, w)];
          int f = (ci * h + y) * w + xx;
          for (int k = 0; k < 4; k++)
            g_assert_cmpfloat (yu[image_index (ci, n, 2 * y + k / 2,
                        2 * xx + k % 2, batch, 2 * h, 2 * w)], ==, v);
          g_assert_cmpfloat (yp[image_index (ci, n, y, xx + 1, batch, h + 3,
                      w + 3)], ==, v);
          g_assert_cmpfloat (yf[f * batch + n], ==, v);
        }
  g_assert_cmpmem (yn, cn->out_n * sizeof (float), x,
      cu->in_n * sizeof (float));
  /* The padding itself is zero: left column, right columns, bottom rows. */
  for (int n = 0; n < batch; n++)
    for (int y = 0; y < h + 3; y++) {
      g_assert_cmpfloat (yp[image_index (1, n, y, 0, batch, h + 3, w + 3)],
          ==, 0.0f);
      g_assert_cmpfloat (yp[image_index (1, n, y, w + 2, batch, h + 3,
                  w + 3)], ==, 0.0f);
    }
  g_assert_cmpfloat (yp[image_index (0, 1, h + 2, 2, batch, h + 3, w + 3)],
      ==, 0.0f);

  g_free (x);
  g_free (yu);
  g_free (yp);
  g_free (yf);
  g_free (yn);
  case_free (cu);
  case_free (cp);
  case_free (cf);
  case_free (cn);
}

static void
test_forward_activations (void)
{
  static const float inputs[] = { -100.0f, -20.0f, -1.5f, -0.25f, 0.0f,
    0.25f, 1.5f, 20.0f, 100.0f
  };
  AnoganLayer kinds[4] = {
    simple_layer (ANOGAN_LAYER_RELU), leaky_relu_layer (0.2f),
    simple_layer (ANOGAN_LAYER_TANH), simple_layer (ANOGAN_LAYER_SIGMOID),
  };
  int n = G_N_ELEMENTS (inputs);

  for (int k = 0; k < 4; k++) {
    Case *c = case_new (&kinds[k], feature_shape (n), 1, FALSE, k);
    float y[G_N_ELEMENTS (inputs)];
    case_forward (c, inputs, y);
    for (int i = 0; i < n; i++) {
      double v = inputs[i], want;
      switch (kinds[k].kind) {
        case ANOGAN_LAYER_RELU:
          want = v > 0 ? v : 0;
          break;
        case ANOGAN_LAYER_LEAKY_RELU:
          want = v > 0 ? v : 0.2 * v;
          break;
        case ANOGAN_LAYER_TANH:
          want = tanh (v);
          break;
        default:
          want = 1.0 / (1.0 + exp (-v));
          break;
      }
      g_assert_true (isfinite (y[i]));
      g_assert_cmpfloat_with_epsilon (y[i], want, 1e-6 * MAX (1.0, fabs (want)));
    }
    case_free (c);
  }
}

/* ---- In place ---- */

static void
check_in_place (const char *config, const AnoganLayer *layer,
    AnoganShape in, int batch, gboolean training)
{
  Case *c = case_new (layer, in, batch, training, 42);
  guint64 rng = anogan_test_rng (43);
  float *x = random_input (c, &rng);
  float *y = g_new (float, c->out_n), *buf = g_new (float, c->in_n);
  float *dy = g_new (float, c->out_n), *dx = g_new (float, c->in_n);
  float *dbuf = g_new (float, c->out_n);

  g_assert_true (anogan_layer_is_elementwise (&c->layer));
  g_assert_cmpuint (c->in_n, ==, c->out_n);
  anogan_test_fill_uniform (dy, c->out_n, &rng, -1.0f, 1.0f);

  case_forward (c, x, y);
  case_backward (c, x, y, dy, dx, NULL);

  memcpy (buf, x, c->in_n * sizeof *buf);
  case_forward (c, buf, buf);
  g_assert_cmpmem (buf, c->out_n * sizeof *buf, y, c->out_n * sizeof *y);
  /* buf now holds y; x survives only where the planner keeps it. */
  memcpy (dbuf, dy, c->out_n * sizeof *dbuf);
  case_backward (c, x, buf, dbuf, dbuf, NULL);
  g_assert_cmpmem (dbuf, c->in_n * sizeof *dbuf, dx, c->in_n * sizeof *dx);
  g_test_message ("%s: in place identical", config);

  g_free (x);
  g_free (y);
  g_free (buf);
  g_free (dy);
  g_free (dx);
  g_free (dbuf);
  case_free (c);
}

static void
test_in_place (void)
{
  AnoganLayer relu = simple_layer (ANOGAN_LAYER_RELU);
  AnoganLayer leaky = leaky_relu_layer (0.2f);
  AnoganLayer leaky_negative = leaky_relu_layer (-0.5f);
  AnoganLayer tanh_layer = simple_layer (ANOGAN_LAYER_TANH);
  AnoganLayer sigmoid = simple_layer (ANOGAN_LAYER_SIGMOID);
  AnoganLayer dropout = dropout_layer (0.4f);
  AnoganLayer bn1 = batch_norm_layer (ANOGAN_LAYER_BATCH_NORM1D, 5, TRUE);
  AnoganLayer bn2 = batch_norm_layer (ANOGAN_LAYER_BATCH_NORM2D, 3, TRUE);
  AnoganShape image = image_shape (3, 4, 5);

  check_in_place ("ReLU", &relu, image, 2, FALSE);
  check_in_place ("LeakyReLU 0.2", &leaky, image, 2, FALSE);
  check_in_place ("LeakyReLU -0.5", &leaky_negative, image, 2, FALSE);
  check_in_place ("Tanh", &tanh_layer, image, 2, FALSE);
  check_in_place ("Sigmoid", &sigmoid, image, 2, FALSE);
  check_in_place ("Dropout eval", &dropout, image, 2, FALSE);
  check_in_place ("Dropout training", &dropout, image, 2, TRUE);
  check_in_place ("BatchNorm1d eval", &bn1, feature_shape (5), 3, FALSE);
  check_in_place ("BatchNorm1d training", &bn1, feature_shape (5), 3, TRUE);
  check_in_place ("BatchNorm2d eval", &bn2, image, 2, FALSE);
  check_in_place ("BatchNorm2d training", &bn2, image, 2, TRUE);
}

/* What the network planner relies on to share buffers. */
static void
test_backward_needs (void)
{
  AnoganLayer relu = simple_layer (ANOGAN_LAYER_RELU);
  AnoganLayer leaky = leaky_relu_layer (0.2f);
  AnoganLayer leaky_negative = leaky_relu_layer (-0.5f);
  AnoganLayer bn = batch_norm_layer (ANOGAN_LAYER_BATCH_NORM2D, 3, TRUE);
  AnoganLayer conv = conv_layer (ANOGAN_LAYER_CONV2D, &conv_configs[1]);
  AnoganLayer pad = zero_pad_layer (1, 1, 1, 1);

  g_assert_false (anogan_layer_backward_reads_input (&relu, TRUE, TRUE));
  g_assert_true (anogan_layer_backward_reads_output (&relu, FALSE));
  g_assert_false (anogan_layer_backward_reads_input (&leaky, FALSE, FALSE));
  g_assert_true (anogan_layer_backward_reads_output (&leaky, FALSE));
  g_assert_true (anogan_layer_backward_reads_input (&leaky_negative, FALSE,
          FALSE));
  g_assert_false (anogan_layer_backward_reads_input (&bn, FALSE, FALSE));
  g_assert_true (anogan_layer_backward_reads_input (&bn, FALSE, TRUE));
  g_assert_true (anogan_layer_backward_reads_input (&bn, TRUE, FALSE));
  g_assert_false (anogan_layer_backward_reads_output (&bn, TRUE));
  g_assert_false (anogan_layer_backward_reads_input (&conv, FALSE, FALSE));
  g_assert_true (anogan_layer_backward_reads_input (&conv, FALSE, TRUE));
  g_assert_false (anogan_layer_is_elementwise (&conv));
  g_assert_false (anogan_layer_is_elementwise (&pad));
  g_assert_true (anogan_layer_is_elementwise (&bn));
}

/* ---- Parameter gradients accumulate ---- */

static void
check_accumulates (const char *config, const AnoganLayer *layer,
    AnoganShape in, int batch, gboolean training)
{
  Case *c = case_new (layer, in, batch, training, 7);
  guint64 rng = anogan_test_rng (8);
  float *x = random_input (c, &rng);
  float *y = g_new (float, c->out_n), *dy = g_new (float, c->out_n);
  float *storage[ANOGAN_N_PARAM_KINDS];
  AnoganLayerParams grads;

  anogan_test_fill_uniform (dy, c->out_n, &rng, -1.0f, 1.0f);
  zero_grads (c, &grads, storage);
  case_forward (c, x, y);
  case_backward (c, x, y, dy, NULL, &grads);
  for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
    gsize n = storage[k] ? anogan_layer_param_floats (&c->layer, k) : 0;
    float *once = n ? g_memdup2 (storage[k], n * sizeof (float)) : NULL;
    char *label = g_strdup_printf ("%s %s twice", config,
        anogan_param_names[k]);
    if (n == 0) {
      g_free (label);
      continue;
    }
    /* The same backward again, this one parameter at a time. */
    for (int j = 0; j < ANOGAN_N_PARAM_KINDS; j++)
      grads.t[j] = j == k ? storage[k] : NULL;
    case_backward (c, x, y, dy, NULL, &grads);
    for (gsize i = 0; i < n; i++)
      once[i] *= 2.0f;
    anogan_test_assert_close (label, storage[k], once, n, 1e-6);
    g_free (once);
    g_free (label);
  }
  for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++)
    g_free (storage[k]);
  g_free (x);
  g_free (y);
  g_free (dy);
  case_free (c);
}

static void
test_param_grads_accumulate (void)
{
  AnoganLayer conv = conv_layer (ANOGAN_LAYER_CONV2D, &conv_configs[1]);
  AnoganLayer convt = conv_layer (ANOGAN_LAYER_CONV_TRANSPOSE2D,
      &conv_transpose_configs[2]);
  AnoganLayer linear = linear_layer (5, 3, TRUE);
  AnoganLayer bn = batch_norm_layer (ANOGAN_LAYER_BATCH_NORM2D, 2, TRUE);

  check_accumulates ("Conv2d", &conv, image_shape (2, 6, 7), 2, FALSE);
  check_accumulates ("ConvTranspose2d", &convt, image_shape (2, 3, 3), 2,
      FALSE);
  check_accumulates ("Linear", &linear, feature_shape (5), 3, FALSE);
  check_accumulates ("BatchNorm2d eval", &bn, image_shape (2, 3, 3), 2,
      FALSE);
  check_accumulates ("BatchNorm2d training", &bn, image_shape (2, 3, 3), 2,
      TRUE);
}

/* ---- BatchNorm statistics ---- */

static void
test_batch_norm_running_stats (void)
{
  int channels = 3, batch = 4, plane = 6;
  AnoganLayer layer = batch_norm_layer (ANOGAN_LAYER_BATCH_NORM2D, channels,
      TRUE);
  Case *c;
  guint64 rng = anogan_test_rng (9);
  float *x, *y, old_mean[3], old_var[3];
  AnoganLayerRun run;
  gsize count = (gsize) batch * plane;

  layer.momentum = 0.25f;
  c = case_new (&layer, image_shape (channels, 2, 3), batch, TRUE, 9);
  x = g_new (float, c->in_n);
  y = g_new (float, c->out_n);
  /* An offset mean, so that a biased/unbiased mix-up or a missing
   * momentum shows. */
  anogan_test_fill_uniform (x, c->in_n, &rng, 2.0f, 5.0f);
  memcpy (old_mean, c->params.t[ANOGAN_PARAM_RUNNING_MEAN], sizeof old_mean);
  memcpy (old_var, c->params.t[ANOGAN_PARAM_RUNNING_VAR], sizeof old_var);

  run = case_run (c);
  anogan_layer_forward (&c->layer, &c->params, &run, x, y);
  anogan_layer_update_running_stats (&c->layer, &c->params, &run);

  for (int ch = 0; ch < channels; ch++) {
    const float *xc = x + ch * count;
    double sum = 0.0, squares = 0.0, mean, var;
    double gamma = c->params.t[ANOGAN_PARAM_WEIGHT][ch];
    double beta = c->params.t[ANOGAN_PARAM_BIAS][ch];
    for (gsize i = 0; i < count; i++)
      sum += xc[i];
    mean = sum / count;
    for (gsize i = 0; i < count; i++)
      squares += (xc[i] - mean) * (xc[i] - mean);
    var = squares / count;
    g_assert_cmpfloat_with_epsilon (c->params.t[ANOGAN_PARAM_RUNNING_MEAN][ch],
        0.75 * old_mean[ch] + 0.25 * mean, 1e-5);
    g_assert_cmpfloat_with_epsilon (c->params.t[ANOGAN_PARAM_RUNNING_VAR][ch],
        0.75 * old_var[ch] + 0.25 * squares / (count - 1), 1e-5);
    /* The output is normalised with the biased variance. */
    for (gsize i = 0; i < count; i++)
      g_assert_cmpfloat_with_epsilon (y[ch * count + i],
          (xc[i] - mean) / sqrt (var + layer.eps) * gamma + beta, 1e-4);
  }

  /* Other kinds have nothing to update. */
  {
    AnoganLayer relu = simple_layer (ANOGAN_LAYER_RELU);
    anogan_layer_update_running_stats (&relu, &c->params, &run);
  }

  g_free (x);
  g_free (y);
  case_free (c);
}

/* Eval mode with a running mean far from 0 and inputs close to it, as
 * after an offset in the data: the output must stay accurate to float
 * precision of the centred values (1e-5), not of the mean. */
static void
test_batch_norm_eval_large_mean (void)
{
  AnoganLayer layer = batch_norm_layer (ANOGAN_LAYER_BATCH_NORM1D, 2, TRUE);
  Case *c = case_new (&layer, feature_shape (2), 8, FALSE, 11);
  guint64 rng = anogan_test_rng (12);
  float *x = g_new (float, c->in_n), *y = g_new (float, c->out_n);
  float *want = g_new (float, c->out_n);

  for (int ch = 0; ch < 2; ch++)
    c->params.t[ANOGAN_PARAM_RUNNING_MEAN][ch] = 1000.0f * (ch + 1);
  for (gsize i = 0; i < c->in_n; i++)
    x[i] = 1000.0f * (i / 8 + 1) + anogan_test_uniform (&rng, -1.0f, 1.0f);
  case_forward (c, x, y);
  for (gsize i = 0; i < c->out_n; i++) {
    int ch = i / 8;
    double mean = c->params.t[ANOGAN_PARAM_RUNNING_MEAN][ch];
    double var = c->params.t[ANOGAN_PARAM_RUNNING_VAR][ch];
    want[i] = (float) ((x[i] - mean) / sqrt (var + layer.eps)
        * c->params.t[ANOGAN_PARAM_WEIGHT][ch]
        + c->params.t[ANOGAN_PARAM_BIAS][ch]);
  }
  anogan_test_assert_close ("BatchNorm1d eval, mean 1000", y, want,
      c->out_n, FORWARD_TOLERANCE);

  g_free (x);
  g_free (y);
  g_free (want);
  case_free (c);
}

/* ---- Shapes and validation ---- */

static void
expect_rejected (const char *config, AnoganLayer layer, AnoganShape in,
    const char *message_part)
{
  GError *error = NULL;

  g_assert_false (anogan_layer_set_input (&layer, &in, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_true (g_str_has_prefix (error->message,
          anogan_layer_kind_name (layer.kind)));
  if (!strstr (error->message, message_part))
    g_error ("%s: message \"%s\" lacks \"%s\"", config, error->message,
        message_part);
  g_assert_cmpint (layer.out_shape.rank, ==, 0);
  g_test_message ("%s: %s", config, error->message);
  g_error_free (error);
}

static void
test_set_input_rejects (void)
{
  ConvConfig dcgan = { 3, 8, 32, 32, 4, 4, 2, 2, 1, 1, 0, 0, FALSE, 1 };
  AnoganLayer conv = conv_layer (ANOGAN_LAYER_CONV2D, &dcgan);
  AnoganLayer convt = conv_layer (ANOGAN_LAYER_CONV_TRANSPOSE2D, &dcgan);
  AnoganLayer l;
  GError *error = NULL;

  l = conv;
  g_assert_false (anogan_layer_set_input (&l, &(AnoganShape) { 3, { 1, 32,
              32 } }, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpstr (error->message, ==,
      "Conv2d expects 3 input channels but gets [1,32,32]");
  g_clear_error (&error);

  expect_rejected ("feature input", conv, feature_shape (3), "[3]");
  l = conv;
  l.kernel[1] = 0;
  expect_rejected ("kernel 0", l, image_shape (3, 8, 8), "kernel");
  l = conv;
  l.stride[0] = 0;
  expect_rejected ("stride 0", l, image_shape (3, 8, 8), "stride");
  l = conv;
  l.padding[1] = -1;
  expect_rejected ("negative padding", l, image_shape (3, 8, 8), "padding");
  l = conv;
  l.kernel[0] = 7;
  expect_rejected ("kernel past the input", l, image_shape (3, 4, 4),
      "empty");
  l = conv;
  l.out_channels = 0;
  expect_rejected ("no output channels", l, image_shape (3, 8, 8),
      "out_channels");

  l = convt;
  l.output_padding[0] = 2;
  expect_rejected ("output_padding = stride", l, image_shape (3, 4, 4),
      "output_padding");
  l = convt;
  l.output_padding[1] = -1;
  expect_rejected ("negative output_padding", l, image_shape (3, 4, 4),
      "output_padding");
  l = convt;
  l.padding[0] = 3;
  expect_rejected ("ConvTranspose2d to nothing", l, image_shape (3, 1, 1),
      "empty");
  expect_rejected ("ConvTranspose2d channels", convt, image_shape (8, 4, 4),
      "3 input channels");

  /* Sizes a crafted file might hold: refused, never overflowed. */
  l = convt;
  l.stride[0] = l.stride[1] = 65536;
  l.kernel[0] = l.kernel[1] = 65536;
  expect_rejected ("ConvTranspose2d too large", l, image_shape (3, 65535, 2),
      "larger than");
  l = convt;
  l.stride[0] = G_MAXINT;
  expect_rejected ("huge stride", l, image_shape (3, 4, 4), "larger than");
  expect_rejected ("Upsample too large", upsample_layer (65536),
      image_shape (1, 32, 32), "larger than");
  expect_rejected ("ZeroPad2d too large",
      zero_pad_layer (1 << 20, 1 << 20, 0, 0), image_shape (1, 4, 4),
      "larger than");
  expect_rejected ("input too large", simple_layer (ANOGAN_LAYER_FLATTEN),
      image_shape (4096, 4096, 4096), "cannot take");

  expect_rejected ("Linear features", linear_layer (5, 2, TRUE),
      feature_shape (4), "5 input features");
  expect_rejected ("Linear on an image", linear_layer (5, 2, TRUE),
      image_shape (5, 1, 1), "[5,1,1]");
  expect_rejected ("BatchNorm1d on an image",
      batch_norm_layer (ANOGAN_LAYER_BATCH_NORM1D, 4, TRUE),
      image_shape (4, 2, 2), "feature");
  expect_rejected ("BatchNorm2d channels",
      batch_norm_layer (ANOGAN_LAYER_BATCH_NORM2D, 4, TRUE),
      image_shape (3, 2, 2), "4 input channels");
  l = batch_norm_layer (ANOGAN_LAYER_BATCH_NORM2D, 4, TRUE);
  l.eps = -1.0f;
  expect_rejected ("negative eps", l, image_shape (4, 2, 2), "eps");
  expect_rejected ("Upsample by 0", upsample_layer (0), image_shape (1, 2, 2),
      "scale_factor");
  expect_rejected ("Upsample of features", upsample_layer (2),
      feature_shape (4), "[4]");
  expect_rejected ("ZeroPad2d cropping", zero_pad_layer (0, 0, -1, 0),
      image_shape (1, 2, 2), "top");
  expect_rejected ("Dropout p > 1", dropout_layer (1.5f), feature_shape (4),
      "p");
  expect_rejected ("Unflatten mismatch",
      unflatten_layer (image_shape (2, 3, 3)), feature_shape (12),
      "[2,3,3]");
  expect_rejected ("Unflatten unset", simple_layer (ANOGAN_LAYER_UNFLATTEN),
      feature_shape (12), "sizes");
  expect_rejected ("Unflatten of an image",
      unflatten_layer (feature_shape (12)), image_shape (3, 2, 2), "[3,2,2]");
  expect_rejected ("rank 2", simple_layer (ANOGAN_LAYER_RELU),
      (AnoganShape) { 2, { 3, 4, 1 } }, "rank 2");
  expect_rejected ("empty input", simple_layer (ANOGAN_LAYER_TANH),
      image_shape (3, 0, 4), "[3,0,4]");
}

static void
expect_output (AnoganLayer layer, AnoganShape in, AnoganShape want)
{
  GError *error = NULL;
  char *got_s, *want_s;

  if (!anogan_layer_set_input (&layer, &in, &error))
    g_error ("%s", error->message);
  got_s = anogan_shape_to_string (&layer.out_shape);
  want_s = anogan_shape_to_string (&want);
  g_assert_cmpstr (got_s, ==, want_s);
  g_assert_true (anogan_shape_equal (&layer.out_shape, &want));
  g_assert_true (anogan_shape_equal (&layer.in_shape, &in));
  g_free (got_s);
  g_free (want_s);
}

static void
test_set_input_shapes (void)
{
  ConvConfig down = { 1, 32, 32, 32, 4, 4, 2, 2, 1, 1, 0, 0, FALSE, 1 };
  ConvConfig verdict = { 128, 1, 4, 4, 4, 4, 1, 1, 0, 0, 0, 0, FALSE, 1 };
  ConvConfig from_z = { 64, 128, 1, 1, 4, 4, 1, 1, 0, 0, 0, 0, FALSE, 1 };
  ConvConfig up = { 32, 1, 16, 16, 4, 4, 2, 2, 1, 1, 0, 0, FALSE, 1 };
  ConvConfig odd = { 2, 2, 3, 5, 3, 2, 2, 3, 1, 0, 1, 2, FALSE, 1 };

  expect_output (conv_layer (ANOGAN_LAYER_CONV2D, &down),
      image_shape (1, 32, 32), image_shape (32, 16, 16));
  expect_output (conv_layer (ANOGAN_LAYER_CONV2D, &verdict),
      image_shape (128, 4, 4), image_shape (1, 1, 1));
  expect_output (conv_layer (ANOGAN_LAYER_CONV_TRANSPOSE2D, &from_z),
      image_shape (64, 1, 1), image_shape (128, 4, 4));
  expect_output (conv_layer (ANOGAN_LAYER_CONV_TRANSPOSE2D, &up),
      image_shape (32, 16, 16), image_shape (1, 32, 32));
  /* (3-1)*2 - 2 + 3 + 1 = 6 and (5-1)*3 - 0 + 2 + 2 = 16 */
  expect_output (conv_layer (ANOGAN_LAYER_CONV_TRANSPOSE2D, &odd),
      image_shape (2, 3, 5), image_shape (2, 6, 16));
  expect_output (linear_layer (6, 2, TRUE), feature_shape (6),
      feature_shape (2));
  expect_output (simple_layer (ANOGAN_LAYER_FLATTEN), image_shape (4, 2, 3),
      feature_shape (24));
  expect_output (simple_layer (ANOGAN_LAYER_FLATTEN), feature_shape (5),
      feature_shape (5));
  expect_output (unflatten_layer (image_shape (4, 2, 3)), feature_shape (24),
      image_shape (4, 2, 3));
  expect_output (upsample_layer (3), image_shape (2, 2, 5),
      image_shape (2, 6, 15));
  expect_output (zero_pad_layer (1, 2, 3, 4), image_shape (2, 2, 5),
      image_shape (2, 9, 8));
  expect_output (leaky_relu_layer (0.2f), image_shape (2, 2, 5),
      image_shape (2, 2, 5));
  expect_output (batch_norm_layer (ANOGAN_LAYER_BATCH_NORM1D, 7, FALSE),
      feature_shape (7), feature_shape (7));
}

static void
test_names_and_params (void)
{
  AnoganLayer layer;
  AnoganLayerKind kind;
  gint64 shape[4];
  char *s;

  for (int k = 0; k < ANOGAN_N_LAYER_KINDS; k++) {
    g_assert_true (anogan_layer_kind_from_name (anogan_layer_kind_name (k),
            &kind));
    g_assert_cmpint (kind, ==, k);
  }
  g_assert_cmpstr (anogan_layer_kind_name (ANOGAN_LAYER_CONV_TRANSPOSE2D), ==,
      "ConvTranspose2d");
  g_assert_false (anogan_layer_kind_from_name ("conv2d", &kind));
  g_assert_false (anogan_layer_kind_from_name ("MaxPool2d", &kind));
  g_assert_cmpstr (anogan_param_names[ANOGAN_PARAM_RUNNING_VAR], ==,
      "running_var");

  anogan_layer_init (&layer, ANOGAN_LAYER_BATCH_NORM2D);
  g_assert_cmpint (layer.stride[0], ==, 1);
  g_assert_true (layer.bias && layer.affine);
  g_assert_cmpfloat (layer.eps, ==, 1e-5f);
  g_assert_cmpfloat (layer.momentum, ==, 0.1f);
  g_assert_cmpfloat (layer.negative_slope, ==, 0.01f);
  g_assert_cmpfloat (layer.p, ==, 0.5f);
  g_assert_cmpint (layer.scale_factor, ==, 1);

  s = anogan_shape_to_string (&(AnoganShape) { 3, { 1, 32, 32 } });
  g_assert_cmpstr (s, ==, "[1,32,32]");
  g_free (s);
  g_assert_cmpuint (anogan_shape_numel (&(AnoganShape) { 3, { 3, 4, 5 } }),
      ==, 60);
  g_assert_cmpuint (anogan_shape_numel (&(AnoganShape) { 1, { 7, 9, 9 } }),
      ==, 7);
  g_assert_true (anogan_shape_equal (&(AnoganShape) { 1, { 7, 1, 1 } },
          &(AnoganShape) { 1, { 7, 5, 5 } }));
  g_assert_false (anogan_shape_equal (&(AnoganShape) { 1, { 7, 1, 1 } },
          &(AnoganShape) { 3, { 7, 1, 1 } }));

  layer = conv_layer (ANOGAN_LAYER_CONV_TRANSPOSE2D, &conv_transpose_configs[3]);
  g_assert_cmpint (anogan_layer_param_shape (&layer, ANOGAN_PARAM_WEIGHT,
          shape), ==, 4);
  g_assert_cmpint (shape[0], ==, 2);    /* [in, out, kh, kw] */
  g_assert_cmpint (shape[1], ==, 2);
  g_assert_cmpint (shape[2], ==, 3);
  g_assert_cmpint (shape[3], ==, 2);
  layer = conv_layer (ANOGAN_LAYER_CONV2D, &conv_configs[3]);
  layer.in_channels = 5;
  anogan_layer_param_shape (&layer, ANOGAN_PARAM_WEIGHT, shape);
  g_assert_cmpint (shape[0], ==, 2);    /* [out, in, kh, kw] */
  g_assert_cmpint (shape[1], ==, 5);
  g_assert_cmpuint (anogan_layer_param_floats (&layer, ANOGAN_PARAM_BIAS), ==,
      2);
  layer.bias = FALSE;
  g_assert_cmpint (anogan_layer_param_shape (&layer, ANOGAN_PARAM_BIAS,
          shape), ==, 0);
  g_assert_cmpuint (anogan_layer_param_floats (&layer,
          ANOGAN_PARAM_RUNNING_MEAN), ==, 0);
  layer = linear_layer (6, 4, TRUE);
  g_assert_cmpint (anogan_layer_param_shape (&layer, ANOGAN_PARAM_WEIGHT,
          shape), ==, 2);
  g_assert_cmpint (shape[0], ==, 4);
  g_assert_cmpint (shape[1], ==, 6);
  layer = batch_norm_layer (ANOGAN_LAYER_BATCH_NORM1D, 9, FALSE);
  g_assert_cmpuint (anogan_layer_param_floats (&layer, ANOGAN_PARAM_WEIGHT),
      ==, 0);
  g_assert_cmpuint (anogan_layer_param_floats (&layer,
          ANOGAN_PARAM_RUNNING_VAR), ==, 9);
  layer = simple_layer (ANOGAN_LAYER_TANH);
  for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++)
    g_assert_cmpuint (anogan_layer_param_floats (&layer, k), ==, 0);
}

static void
test_sizes_and_flops (void)
{
  ConvConfig down = { 1, 32, 32, 32, 4, 4, 2, 2, 1, 1, 0, 0, FALSE, 1 };
  ConvConfig from_z = { 64, 128, 1, 1, 4, 4, 1, 1, 0, 0, 0, 0, FALSE, 1 };
  AnoganLayer conv = conv_layer (ANOGAN_LAYER_CONV2D, &down);
  AnoganLayer convt = conv_layer (ANOGAN_LAYER_CONV_TRANSPOSE2D, &from_z);
  AnoganLayer bn = batch_norm_layer (ANOGAN_LAYER_BATCH_NORM2D, 32, TRUE);
  AnoganLayer dropout = dropout_layer (0.5f);
  AnoganLayer linear = linear_layer (10, 3, TRUE);

  g_assert_true (anogan_layer_set_input (&conv, &(AnoganShape) { 3, { 1, 32,
              32 } }, NULL));
  g_assert_true (anogan_layer_set_input (&convt, &(AnoganShape) { 3, { 64, 1,
              1 } }, NULL));
  g_assert_true (anogan_layer_set_input (&bn, &conv.out_shape, NULL));
  g_assert_true (anogan_layer_set_input (&dropout, &conv.out_shape, NULL));
  g_assert_true (anogan_layer_set_input (&linear, &(AnoganShape) { 1, { 10,
              1, 1 } }, NULL));

  /* col is [Cin*kh*kw][N*Ho*Wo] */
  g_assert_cmpuint (anogan_layer_scratch_floats (&conv, 5), ==,
      1 * 16 * 5 * 16 * 16);
  g_assert_cmpuint (anogan_layer_scratch_floats (&convt, 5), ==,
      128 * 16 * 5 * 1);
  g_assert_cmpfloat (anogan_layer_flops (&conv), ==, 2.0 * 32 * 16 * 16 * 16);
  g_assert_cmpfloat (anogan_layer_flops (&convt), ==, 2.0 * 64 * 128 * 16);
  g_assert_cmpfloat (anogan_layer_flops (&linear), ==, 2.0 * 30 + 3);
  g_assert_cmpuint (anogan_layer_state_floats (&bn, 4, TRUE), ==, 3 * 32);
  g_assert_cmpuint (anogan_layer_state_floats (&bn, 4, FALSE), ==, 0);
  g_assert_cmpuint (anogan_layer_state_floats (&dropout, 4, TRUE), ==,
      4 * 32 * 16 * 16);
  g_assert_cmpuint (anogan_layer_state_floats (&conv, 4, TRUE), ==, 0);
}

/* Training-mode Dropout keeps about 1 - p of the values, scaled, and a
 * different rng state draws a different mask. */
static void
test_dropout_mask (void)
{
  AnoganLayer layer = dropout_layer (0.25f);
  Case *c = case_new (&layer, feature_shape (1000), 4, TRUE, 1);
  float *x = g_new (float, c->in_n), *y = g_new (float, c->out_n);
  float *y2 = g_new (float, c->out_n);
  AnoganLayerRun run = case_run (c);
  gsize kept = 0;

  for (gsize i = 0; i < c->in_n; i++)
    x[i] = 1.0f;
  anogan_layer_forward (&c->layer, &c->params, &run, x, y);
  g_assert_cmpuint (run.rng, !=, c->dropout_seed);
  for (gsize i = 0; i < c->out_n; i++) {
    g_assert_true (y[i] == 0.0f || fabsf (y[i] - 1.0f / 0.75f) < 1e-6f);
    kept += y[i] != 0.0f;
  }
  /* 4000 draws: the standard deviation of the kept fraction is 0.007. */
  g_assert_cmpfloat (fabs ((double) kept / c->out_n - 0.75), <, 0.04);
  anogan_layer_forward (&c->layer, &c->params, &run, x, y2);
  g_assert_true (memcmp (y, y2, c->out_n * sizeof *y) != 0);

  g_free (x);
  g_free (y);
  g_free (y2);
  case_free (c);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/layers/names-and-params", test_names_and_params);
  g_test_add_func ("/layers/set-input/shapes", test_set_input_shapes);
  g_test_add_func ("/layers/set-input/rejects", test_set_input_rejects);
  g_test_add_func ("/layers/sizes-and-flops", test_sizes_and_flops);
  g_test_add_func ("/layers/forward/conv", test_forward_conv);
  g_test_add_func ("/layers/forward/conv-large", test_forward_conv_large);
  g_test_add_func ("/layers/forward/linear", test_forward_linear);
  g_test_add_func ("/layers/chunked-columns", test_chunked_columns);
  g_test_add_func ("/layers/forward/simple", test_forward_simple_layers);
  g_test_add_func ("/layers/forward/activations", test_forward_activations);
  g_test_add_func ("/layers/gradients/conv2d", test_gradients_conv2d);
  g_test_add_func ("/layers/gradients/conv-transpose2d",
      test_gradients_conv_transpose2d);
  g_test_add_func ("/layers/gradients/linear", test_gradients_linear);
  g_test_add_func ("/layers/gradients/batch-norm", test_gradients_batch_norm);
  g_test_add_func ("/layers/gradients/activations",
      test_gradients_activations);
  g_test_add_func ("/layers/gradients/reshaping", test_gradients_reshaping);
  g_test_add_func ("/layers/gradients/dropout", test_gradients_dropout);
  g_test_add_func ("/layers/in-place", test_in_place);
  g_test_add_func ("/layers/backward-needs", test_backward_needs);
  g_test_add_func ("/layers/param-grads-accumulate",
      test_param_grads_accumulate);
  g_test_add_func ("/layers/batch-norm/running-stats",
      test_batch_norm_running_stats);
  g_test_add_func ("/layers/batch-norm/eval-large-mean",
      test_batch_norm_eval_large_mean);
  g_test_add_func ("/layers/dropout/mask", test_dropout_mask);

  return g_test_run ();
}
