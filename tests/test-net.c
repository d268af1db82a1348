/* test-net.c: the network runner: planning, in-place layers, backward
 *
 * The layers themselves are checked one by one in test-layers.c; here the
 * question is whether a chain of them, run in one planned workspace with
 * shared buffers, computes what the chain computes, forward and backward.
 */
#include <math.h>
#include <string.h>

#include "anogan-net.h"
#include "anogan-test-util.h"

#define BATCH 3

typedef struct {
  AnoganNet net;
  float *params;
  gsize n_params;
} Fixture;

static AnoganLayer *
add_layer (AnoganNet *net, AnoganLayerKind kind)
{
  net->layers = g_renew (AnoganLayer, net->layers, net->n_layers + 1);
  anogan_layer_init (&net->layers[net->n_layers], kind);
  return &net->layers[net->n_layers++];
}

static void
add_conv (AnoganNet *net, AnoganLayerKind kind, int in, int out, int k,
    int stride, int pad)
{
  AnoganLayer *l = add_layer (net, kind);

  l->in_channels = in;
  l->out_channels = out;
  l->kernel[0] = l->kernel[1] = k;
  l->stride[0] = l->stride[1] = stride;
  l->padding[0] = l->padding[1] = pad;
  l->bias = TRUE;
}

static void
add_batch_norm (AnoganNet *net, int channels)
{
  add_layer (net, ANOGAN_LAYER_BATCH_NORM2D)->in_channels = channels;
}

/* Conv, BN, LeakyReLU, ConvT, BN, Sigmoid, Conv, Tanh: every in-place
 * case a DCGAN has, on a 2x8x8 input.  Sigmoid stands in for ReLU (both
 * take their derivative from their output) because finite differences of
 * whole-network parameters would straddle too many of ReLU's kinks. */
static void
fixture_init (Fixture *f, guint64 seed)
{
  AnoganShape input = { 3, { 2, 8, 8 } };
  guint64 rng = anogan_test_rng (seed);
  GError *error = NULL;

  memset (f, 0, sizeof *f);
  f->net.name = g_strdup ("test");
  add_conv (&f->net, ANOGAN_LAYER_CONV2D, 2, 4, 4, 2, 1);
  add_batch_norm (&f->net, 4);
  add_layer (&f->net, ANOGAN_LAYER_LEAKY_RELU)->negative_slope = 0.2f;
  add_conv (&f->net, ANOGAN_LAYER_CONV_TRANSPOSE2D, 4, 3, 4, 2, 1);
  add_batch_norm (&f->net, 3);
  add_layer (&f->net, ANOGAN_LAYER_SIGMOID);
  add_conv (&f->net, ANOGAN_LAYER_CONV2D, 3, 2, 3, 1, 1);
  add_layer (&f->net, ANOGAN_LAYER_TANH);
  g_assert_true (anogan_net_set_input (&f->net, &input, &error));
  g_assert_no_error (error);

  f->n_params = anogan_net_param_floats (&f->net);
  f->params = g_new (float, f->n_params);
  f->net.params = g_new0 (AnoganLayerParams, f->net.n_layers);
  g_assert_cmpuint (anogan_net_bind_params (&f->net, f->params, f->net.params),
      ==, f->n_params);
  anogan_test_fill_uniform (f->params, f->n_params, &rng, -0.5f, 0.5f);
  /* Running variances must be positive. */
  for (int i = 0; i < f->net.n_layers; i++) {
    float *var = f->net.params[i].t[ANOGAN_PARAM_RUNNING_VAR];
    for (int c = 0; var && c < f->net.layers[i].in_channels; c++)
      var[c] = 0.5f + fabsf (var[c]);
  }
}

static void
fixture_clear (Fixture *f)
{
  g_free (f->params);
  anogan_net_clear (&f->net);
}

static gsize
input_floats (const AnoganNet *net)
{
  return anogan_shape_numel (&net->input_shape) * BATCH;
}

static gsize
output_floats (const AnoganNet *net)
{
  return anogan_shape_numel (anogan_net_output_shape (net, net->n_layers))
      * BATCH;
}

static void
test_bind_params (void)
{
  Fixture f;
  gsize expected = 0;

  fixture_init (&f, 1);
  for (int i = 0; i < f.net.n_layers; i++)
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
      gsize n = anogan_layer_param_floats (&f.net.layers[i], k);
      g_assert_true ((n == 0) == (f.net.params[i].t[k] == NULL));
      if (n)
        g_assert_true (f.net.params[i].t[k] == f.params + expected);
      expected += n;
    }
  g_assert_cmpuint (expected, ==, f.n_params);
  fixture_clear (&f);
}

/* The network's forward equals the layers run one after another in
 * buffers of their own, in every planning mode. */
static void
test_forward_matches_layers (void)
{
  AnoganNetFlags modes[] = { ANOGAN_NET_INFERENCE, ANOGAN_NET_PARAM_GRADS };
  Fixture f;
  guint64 rng = anogan_test_rng (2);
  float *x, *reference;

  fixture_init (&f, 2);
  x = g_new (float, input_floats (&f.net));
  anogan_test_fill_uniform (x, input_floats (&f.net), &rng, -1, 1);

  {
    /* Reference: separate buffers for everything. */
    const float *in = x;
    float *outs[16];
    AnoganLayerRun run = { .batch = BATCH };
    gsize scratch = 0;

    for (int i = 0; i < f.net.n_layers; i++)
      scratch = MAX (scratch, anogan_layer_scratch_floats (&f.net.layers[i],
              BATCH));
    run.scratch = g_new (float, scratch + 1);
    for (int i = 0; i < f.net.n_layers; i++) {
      outs[i] = g_new (float,
          anogan_shape_numel (&f.net.layers[i].out_shape) * BATCH);
      anogan_layer_forward (&f.net.layers[i], &f.net.params[i], &run, in,
          outs[i]);
      in = outs[i];
    }
    reference = g_memdup2 (in, output_floats (&f.net) * sizeof (float));
    for (int i = 0; i < f.net.n_layers; i++)
      g_free (outs[i]);
    g_free (run.scratch);
  }

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++) {
    AnoganNetWorkspace *ws = anogan_net_workspace_new (&f.net,
        f.net.n_layers, BATCH, modes[m]);
    const float *y = anogan_net_forward (&f.net, ws, BATCH, x);

    g_assert_cmpmem (y, output_floats (&f.net) * sizeof (float), reference,
        output_floats (&f.net) * sizeof (float));
    anogan_net_workspace_free (ws);
  }

  g_free (reference);
  g_free (x);
  fixture_clear (&f);
}

/* In-place planning must actually save memory for a DCGAN-like chain. */
static void
test_in_place_saves_memory (void)
{
  Fixture f;
  AnoganNetWorkspace *lean, *full;

  fixture_init (&f, 3);
  lean = anogan_net_workspace_new (&f.net, f.net.n_layers, BATCH,
      ANOGAN_NET_INFERENCE);
  full = anogan_net_workspace_new (&f.net, f.net.n_layers, BATCH,
      ANOGAN_NET_TRAINING | ANOGAN_NET_PARAM_GRADS);
  g_assert_cmpuint (anogan_net_workspace_bytes (lean), <,
      anogan_net_workspace_bytes (full));
  anogan_net_workspace_free (lean);
  anogan_net_workspace_free (full);
  fixture_clear (&f);
}

/* loss = Σ w·y, accumulated in double. */
static double
weighted_loss (const AnoganNet *net, AnoganNetWorkspace *ws, const float *x,
    const float *w)
{
  const float *y = anogan_net_forward (net, ws, BATCH, x);
  double sum = 0.0;

  for (gsize i = 0; i < output_floats (net); i++)
    sum += (double) w[i] * y[i];
  return sum;
}

static double
central_difference (const AnoganNet *net, AnoganNetWorkspace *ws,
    const float *x, const float *w, float *value, float h)
{
  float saved = *value;
  double up, down;

  *value = saved + h;
  up = weighted_loss (net, ws, x, w);
  *value = saved - h;
  down = weighted_loss (net, ws, x, w);
  *value = saved;
  return (up - down) / (2.0 * h);
}

static void
check_backward (AnoganNetFlags flags)
{
  const float h = 1e-3f;
  Fixture f;
  guint64 rng = anogan_test_rng (4 + flags);
  gsize n_in, n_out;
  float *x, *w, *dx, *fd_dx, *grads, *fd_grads, largest = 0.0f;
  AnoganLayerParams *grad_params;
  AnoganNetWorkspace *ws;

  fixture_init (&f, 4);
  n_in = input_floats (&f.net);
  n_out = output_floats (&f.net);
  x = g_new (float, n_in);
  w = g_new (float, n_out);
  dx = g_new (float, n_in);
  fd_dx = g_new (float, n_in);
  grads = g_new0 (float, f.n_params);
  fd_grads = g_new0 (float, f.n_params);
  grad_params = g_new0 (AnoganLayerParams, f.net.n_layers);
  anogan_net_bind_params (&f.net, grads, grad_params);
  anogan_test_fill_uniform (x, n_in, &rng, -1, 1);
  anogan_test_fill_uniform (w, n_out, &rng, -1, 1);

  ws = anogan_net_workspace_new (&f.net, f.net.n_layers, BATCH,
      flags | ANOGAN_NET_PARAM_GRADS);
  anogan_net_forward (&f.net, ws, BATCH, x);
  anogan_net_backward (&f.net, ws, w, dx, grad_params);

  for (gsize i = 0; i < n_in; i++)
    fd_dx[i] = central_difference (&f.net, ws, x, w, &x[i], h);
  for (gsize i = 0; i < f.n_params; i++)
    fd_grads[i] = central_difference (&f.net, ws, x, w, &f.params[i], h);

  /* Running statistics are buffers, not parameters: no gradient flows to
   * them, whatever their effect on the output in eval mode. */
  for (int i = 0; i < f.net.n_layers; i++)
    for (int k = ANOGAN_PARAM_RUNNING_MEAN; k <= ANOGAN_PARAM_RUNNING_VAR; k++)
      if (f.net.params[i].t[k]) {
        gsize off = f.net.params[i].t[k] - f.params;
        gsize n = anogan_layer_param_floats (&f.net.layers[i], k);
        for (gsize j = 0; j < n; j++)
          g_assert_cmpfloat (grads[off + j], ==, 0.0f);
        memset (fd_grads + off, 0, n * sizeof (float));
      }

  /* Float32 central differences with h = 1e-3: rounding of the loss
   * (~1e-7 relative) over 2h and the curvature of tanh both stay below
   * 1e-3 of the gradients' scale; 1e-2 leaves room for a rare kink. */
  anogan_test_assert_close ("input gradient", dx, fd_dx, n_in, 1e-2);
  /* Per tensor, relative to the tensor's own scale, but never to less
   * than a hundredth of the largest gradient: in training mode a bias
   * before BatchNorm has a gradient that is exactly zero, and its finite
   * difference is pure rounding. */
  for (gsize i = 0; i < f.n_params; i++)
    largest = MAX (largest, fabsf (fd_grads[i]));
  for (int i = 0; i < f.net.n_layers; i++)
    for (int k = ANOGAN_PARAM_WEIGHT; k <= ANOGAN_PARAM_BIAS; k++)
      if (f.net.params[i].t[k]) {
        gsize off = f.net.params[i].t[k] - f.params;
        gsize n = anogan_layer_param_floats (&f.net.layers[i], k);
        float scale = 1e-2f * largest, diff = 0.0f;

        for (gsize j = 0; j < n; j++) {
          scale = MAX (scale, fabsf (fd_grads[off + j]));
          diff = MAX (diff, fabsf (grads[off + j] - fd_grads[off + j]));
        }
        g_test_message ("layer %d %s gradient: scaled error %.3g", i,
            anogan_param_names[k], diff / scale);
        g_assert_cmpfloat (diff / scale, <=, 1e-2);
      }

  anogan_net_workspace_free (ws);
  g_free (grad_params);
  g_free (fd_grads);
  g_free (grads);
  g_free (fd_dx);
  g_free (dx);
  g_free (w);
  g_free (x);
  fixture_clear (&f);
}

static void
test_backward_inference (void)
{
  check_backward (ANOGAN_NET_INFERENCE);
}

static void
test_backward_training (void)
{
  check_backward (ANOGAN_NET_TRAINING);
}

/* Without parameter gradients the lean plan gives the same input
 * gradient as the full one. */
static void
test_lean_backward_matches_full (void)
{
  Fixture f;
  guint64 rng = anogan_test_rng (5);
  gsize n_in, n_out;
  float *x, *w, *dx_lean, *dx_full;
  AnoganNetWorkspace *lean, *full;

  fixture_init (&f, 5);
  n_in = input_floats (&f.net);
  n_out = output_floats (&f.net);
  x = g_new (float, n_in);
  w = g_new (float, n_out);
  dx_lean = g_new (float, n_in);
  dx_full = g_new (float, n_in);
  anogan_test_fill_uniform (x, n_in, &rng, -1, 1);
  anogan_test_fill_uniform (w, n_out, &rng, -1, 1);

  lean = anogan_net_workspace_new (&f.net, f.net.n_layers, BATCH,
      ANOGAN_NET_INFERENCE);
  full = anogan_net_workspace_new (&f.net, f.net.n_layers, BATCH,
      ANOGAN_NET_PARAM_GRADS);
  anogan_net_forward (&f.net, lean, BATCH, x);
  anogan_net_backward (&f.net, lean, w, dx_lean, NULL);
  anogan_net_forward (&f.net, full, BATCH, x);
  anogan_net_backward (&f.net, full, w, dx_full, NULL);
  g_assert_cmpmem (dx_lean, n_in * sizeof (float), dx_full,
      n_in * sizeof (float));

  anogan_net_workspace_free (lean);
  anogan_net_workspace_free (full);
  g_free (dx_full);
  g_free (dx_lean);
  g_free (w);
  g_free (x);
  fixture_clear (&f);
}

static void
test_layout_round_trip (void)
{
  const int n = 3, c = 4;
  const gsize plane = 5;
  float src[60], mid[60], back[60];

  for (int i = 0; i < 60; i++)
    src[i] = i;
  anogan_nchw_to_cnhw (src, mid, n, c, plane);
  /* Sample 1, channel 2, element 3 sits at [2][1][3]. */
  g_assert_cmpfloat (mid[(2 * n + 1) * plane + 3], ==,
      src[(1 * c + 2) * plane + 3]);
  anogan_cnhw_to_nchw (mid, back, n, c, plane);
  g_assert_cmpmem (src, sizeof src, back, sizeof back);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/bind-params", test_bind_params);
  g_test_add_func ("/net/forward-matches-layers", test_forward_matches_layers);
  g_test_add_func ("/net/in-place-saves-memory", test_in_place_saves_memory);
  g_test_add_func ("/net/backward/inference", test_backward_inference);
  g_test_add_func ("/net/backward/training", test_backward_training);
  g_test_add_func ("/net/backward/lean-matches-full",
      test_lean_backward_matches_full);
  g_test_add_func ("/net/layout-round-trip", test_layout_round_trip);
  return g_test_run ();
}
