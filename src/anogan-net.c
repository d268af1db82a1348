/* anogan-net.c: a sequence of layers and the workspace to run it
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "anogan-net.h"

#include <gio/gio.h>
#include <string.h>

/**
 * anogan_net_clear:
 * @net: a network
 *
 * Frees what @net owns (its name, layers and parameter table, not the
 * parameters themselves) and zeroes it.
 */
void
anogan_net_clear (AnoganNet *net)
{
  g_free (net->name);
  g_free (net->layers);
  g_free (net->params);
  memset (net, 0, sizeof *net);
}

/**
 * anogan_net_set_input:
 * @net: a network whose layers are described
 * @input: the shape of one input sample
 * @error: return location for a #GError
 *
 * Runs the shape of @input through every layer, checking that each layer
 * accepts what the one before it produces.
 *
 * Returns: %FALSE with @error (%G_IO_ERROR_INVALID_DATA, naming the layer)
 *   when the shapes do not chain.
 */
gboolean
anogan_net_set_input (AnoganNet *net, const AnoganShape *input,
    GError **error)
{
  const AnoganShape *shape = input;

  net->input_shape = *input;
  for (int i = 0; i < net->n_layers; i++) {
    AnoganLayer *layer = &net->layers[i];
    GError *local = NULL;

    if (!anogan_layer_set_input (layer, shape, &local)) {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
          "%s layer %d (%s): %s", net->name ? net->name : "network", i,
          anogan_layer_kind_name (layer->kind), local->message);
      g_error_free (local);
      return FALSE;
    }
    shape = &layer->out_shape;
  }
  return TRUE;
}

/**
 * anogan_net_output_shape:
 * @net: a network with its input set
 * @n_layers: how many of its layers run
 *
 * Returns: the shape of one sample after the first @n_layers layers
 */
const AnoganShape *
anogan_net_output_shape (const AnoganNet *net, int n_layers)
{
  g_return_val_if_fail (n_layers >= 0 && n_layers <= net->n_layers, NULL);
  return n_layers == 0 ? &net->input_shape : &net->layers[n_layers - 1].out_shape;
}

/**
 * anogan_net_bind_params:
 * @net: a network with its input set
 * @block: (nullable): memory for all tensors of @net, or %NULL to count
 * @params: (nullable): one #AnoganLayerParams per layer, filled in
 *
 * Lays the tensors of @net out in @block, layer by layer and in
 * #AnoganParamKind order, packed.  The same layout serves the parameters,
 * their gradients and an optimiser's moments.
 *
 * Returns: the number of floats the layout takes
 */
gsize
anogan_net_bind_params (const AnoganNet *net, float *block,
    AnoganLayerParams *params)
{
  gsize offset = 0;

  for (int i = 0; i < net->n_layers; i++) {
    for (int k = 0; k < ANOGAN_N_PARAM_KINDS; k++) {
      gsize n = anogan_layer_param_floats (&net->layers[i], k);

      if (params)
        params[i].t[k] = (block && n) ? block + offset : NULL;
      offset += n;
    }
  }
  return offset;
}

/**
 * anogan_net_param_floats:
 * @net: a network with its input set
 *
 * Returns: the number of floats in all tensors of @net
 */
gsize
anogan_net_param_floats (const AnoganNet *net)
{
  return anogan_net_bind_params (net, NULL, NULL);
}

/**
 * anogan_net_flops:
 * @net: a network with its input set
 * @n_layers: how many of its layers run
 *
 * Returns: floating-point operations of one sample's forward pass through
 *   the first @n_layers layers
 */
double
anogan_net_flops (const AnoganNet *net, int n_layers)
{
  double flops = 0.0;

  for (int i = 0; i < n_layers && i < net->n_layers; i++)
    flops += anogan_layer_flops (&net->layers[i]);
  return flops;
}

/* ---------------------------------------------------------------------- */

struct _AnoganNetWorkspace {
  int n_layers;
  int max_batch;
  AnoganNetFlags flags;

  float *block;                 /* the one allocation behind the buffers
                                 * below, unless transient ones are lent */
  gsize n_floats;               /* floats this workspace uses */

  float **activation;           /* output of each layer; in-place layers
                                 * share their input's buffer */
  float **state;                /* per layer, training statistics */
  float *grad[2];               /* ping-pong buffers for backward */
  float *scratch;               /* im2col and the like, shared */

  AnoganLayerRun run;
  const float *input;           /* input of the last forward */
};

static gboolean
runs_in_place (const AnoganNet *net, int i, AnoganNetFlags flags)
{
  gboolean training = (flags & ANOGAN_NET_TRAINING) != 0;
  gboolean param_grads = (flags & ANOGAN_NET_PARAM_GRADS) != 0;

  /* The first layer's input belongs to the caller. */
  if (i == 0)
    return FALSE;
  return anogan_layer_is_elementwise (&net->layers[i])
      && !anogan_layer_backward_reads_input (&net->layers[i], training,
          param_grads)
      && !anogan_layer_backward_reads_output (&net->layers[i - 1], training);
}

/* The largest activation (or input) of a batch, which sizes the gradient
 * buffers, and the largest scratch any layer needs. */
static void
plan_transient (const AnoganNet *net, int n_layers, int max_batch,
    gsize *largest, gsize *scratch)
{
  *largest = anogan_shape_numel (&net->input_shape) * max_batch;
  *scratch = 0;
  for (int i = 0; i < n_layers; i++) {
    const AnoganLayer *layer = &net->layers[i];

    *largest = MAX (*largest,
        anogan_shape_numel (&layer->out_shape) * max_batch);
    *scratch = MAX (*scratch, anogan_layer_scratch_floats (layer, max_batch));
  }
}

/**
 * anogan_net_workspace_transient_floats:
 * @net: a network with its input set
 * @n_layers: run the first @n_layers layers
 * @max_batch: the most samples a call will carry
 *
 * The buffers a pass needs only while it runs (gradients on their way
 * back, im2col scratch) can be shared by workspaces that never run at the
 * same time, such as G's and D's in one search worker.
 *
 * Returns: the floats of such transient buffers a workspace needs
 */
gsize
anogan_net_workspace_transient_floats (const AnoganNet *net, int n_layers,
    int max_batch)
{
  gsize largest, scratch;

  plan_transient (net, n_layers, max_batch, &largest, &scratch);
  return 2 * largest + scratch;
}

/**
 * anogan_net_workspace_new:
 * @net: a network with its input set
 * @n_layers: run the first @n_layers layers (D[:K+1] is K+1)
 * @max_batch: the most samples a call will carry
 * @flags: what the workspace must support
 *
 * Plans and allocates, once, every buffer that forward and backward
 * passes of up to @max_batch samples need.  A workspace belongs to one
 * thread at a time.
 *
 * Returns: (transfer full): the workspace
 */
AnoganNetWorkspace *
anogan_net_workspace_new (const AnoganNet *net, int n_layers, int max_batch,
    AnoganNetFlags flags)
{
  return anogan_net_workspace_new_lent (net, n_layers, max_batch, flags,
      NULL);
}

/**
 * anogan_net_workspace_new_lent:
 * @net: a network with its input set
 * @n_layers: run the first @n_layers layers (D[:K+1] is K+1)
 * @max_batch: the most samples a call will carry
 * @flags: what the workspace must support
 * @transient: (nullable): at least anogan_net_workspace_transient_floats()
 *   floats that the workspace may use during each call and that outlive
 *   it, or %NULL to allocate its own
 *
 * Like anogan_net_workspace_new(), with the transient buffers lent by the
 * caller, so that workspaces that take turns can share them.
 *
 * Returns: (transfer full): the workspace
 */
AnoganNetWorkspace *
anogan_net_workspace_new_lent (const AnoganNet *net, int n_layers,
    int max_batch, AnoganNetFlags flags, float *transient)
{
  gboolean training = (flags & ANOGAN_NET_TRAINING) != 0;
  AnoganNetWorkspace *ws;
  gsize largest, scratch, total;
  gsize *act_offset, *state_offset;
  float *grads;

  g_return_val_if_fail (n_layers >= 1 && n_layers <= net->n_layers, NULL);
  g_return_val_if_fail (max_batch >= 1, NULL);

  ws = g_new0 (AnoganNetWorkspace, 1);
  ws->n_layers = n_layers;
  ws->max_batch = max_batch;
  ws->flags = flags;
  ws->activation = g_new0 (float *, n_layers);
  ws->state = g_new0 (float *, n_layers);
  act_offset = g_new0 (gsize, n_layers);
  state_offset = g_new0 (gsize, n_layers);

  /* Offsets first, pointers once the one block exists. */
  plan_transient (net, n_layers, max_batch, &largest, &scratch);
  total = 0;
  for (int i = 0; i < n_layers; i++) {
    const AnoganLayer *layer = &net->layers[i];
    gsize out = anogan_shape_numel (&layer->out_shape) * max_batch;

    if (runs_in_place (net, i, flags)) {
      act_offset[i] = act_offset[i - 1];
    } else {
      act_offset[i] = total;
      total += out;
    }
    state_offset[i] = total;
    total += anogan_layer_state_floats (layer, max_batch, training);
  }
  ws->n_floats = total + (transient ? 0 : 2 * largest + scratch);
  ws->block = g_new (float, MAX (ws->n_floats, 1));

  for (int i = 0; i < n_layers; i++) {
    ws->activation[i] = ws->block + act_offset[i];
    ws->state[i] = ws->block + state_offset[i];
  }
  grads = transient ? transient : ws->block + total;
  ws->grad[0] = grads;
  ws->grad[1] = grads + largest;
  ws->scratch = ws->grad[1] + largest;
  ws->run.training = training;
  ws->run.scratch = ws->scratch;

  g_free (act_offset);
  g_free (state_offset);
  return ws;
}

/**
 * anogan_net_workspace_free:
 * @ws: (transfer full) (nullable): a workspace
 */
void
anogan_net_workspace_free (AnoganNetWorkspace *ws)
{
  if (!ws)
    return;
  g_free (ws->block);
  g_free (ws->activation);
  g_free (ws->state);
  g_free (ws);
}

/**
 * anogan_net_workspace_bytes:
 * @ws: a workspace
 *
 * Returns: the size of its buffers in bytes, lent ones not counted
 */
gsize
anogan_net_workspace_bytes (const AnoganNetWorkspace *ws)
{
  return ws->n_floats * sizeof (float);
}

/**
 * anogan_net_set_rng:
 * @ws: a workspace
 * @seed: the seed of Dropout's masks in training mode
 */
void
anogan_net_set_rng (AnoganNetWorkspace *ws, guint64 seed)
{
  ws->run.rng = seed;
}

/**
 * anogan_net_forward:
 * @net: a network with its input set
 * @ws: a workspace planned for @net
 * @batch: number of samples, at most the workspace's max_batch
 * @x: the input batch, channel-major ([C][N][H][W] or [F][N]); it must
 *   stay untouched until the matching anogan_net_backward()
 *
 * Runs the workspace's layers forward.
 *
 * Returns: (transfer none): the output batch, channel-major, valid until
 *   the next call with @ws
 */
const float *
anogan_net_forward (const AnoganNet *net, AnoganNetWorkspace *ws, int batch,
    const float *x)
{
  const float *in = x;

  g_return_val_if_fail (batch >= 1 && batch <= ws->max_batch, NULL);

  ws->run.batch = batch;
  ws->input = x;
  for (int i = 0; i < ws->n_layers; i++) {
    ws->run.state = ws->state[i];
    anogan_layer_forward (&net->layers[i], &net->params[i], &ws->run, in,
        ws->activation[i]);
    in = ws->activation[i];
  }
  return in;
}

/**
 * anogan_net_backward:
 * @net: the network of the last anogan_net_forward() with @ws
 * @ws: the workspace of that forward pass
 * @dy: gradient of the loss with respect to the forward's output
 * @dx: (nullable): where the gradient with respect to its input goes
 * @grads: (nullable): per layer, where parameter gradients accumulate;
 *   needs a workspace planned with %ANOGAN_NET_PARAM_GRADS
 *
 * Backpropagates through the layers of the last forward pass.
 */
void
anogan_net_backward (const AnoganNet *net, AnoganNetWorkspace *ws,
    const float *dy, float *dx, AnoganLayerParams *grads)
{
  const float *upstream = dy;
  int next = 0;

  g_return_if_fail (!grads || (ws->flags & ANOGAN_NET_PARAM_GRADS));

  for (int i = ws->n_layers - 1; i >= 0; i--) {
    const AnoganLayer *layer = &net->layers[i];
    const float *x = i == 0 ? ws->input : ws->activation[i - 1];
    float *out;

    /* Gradients alternate between the two buffers.  Elementwise layers
     * could overwrite theirs, but separate buffers let the compiler
     * vectorise their loops, and cost nothing: both buffers exist. */
    if (i == 0)
      out = dx;
    else {
      out = ws->grad[next];
      next ^= 1;
    }

    ws->run.state = ws->state[i];
    anogan_layer_backward (layer, &net->params[i], grads ? &grads[i] : NULL,
        &ws->run, x, ws->activation[i], upstream, out);
    upstream = out;
  }
}

/**
 * anogan_net_update_running_stats:
 * @net: the network of the last training-mode anogan_net_forward() with @ws
 * @ws: the workspace of that forward pass, planned with
 *   %ANOGAN_NET_TRAINING
 *
 * Moves the running statistics of every BatchNorm layer towards the batch
 * statistics of the last forward pass, as a PyTorch module in training
 * mode does on each forward call.  The network's tensors must be writable.
 */
void
anogan_net_update_running_stats (const AnoganNet *net,
    AnoganNetWorkspace *ws)
{
  g_return_if_fail (ws->flags & ANOGAN_NET_TRAINING);

  for (int i = 0; i < ws->n_layers; i++) {
    AnoganLayerRun run = ws->run;

    run.state = ws->state[i];
    anogan_layer_update_running_stats (&net->layers[i], &net->params[i],
        &run);
  }
}

/* ---------------------------------------------------------------------- */

/**
 * anogan_nchw_to_cnhw:
 * @src: @n samples of @c channels of @plane floats each
 * @dst: the same values, channel-major
 * @n: samples
 * @c: channels (features for vectors)
 * @plane: floats per channel and sample (H·W, or 1 for vectors)
 *
 * Converts a batch from PyTorch's layout to the one layers work in.
 */
void
anogan_nchw_to_cnhw (const float *src, float *dst, int n, int c, gsize plane)
{
  for (int s = 0; s < n; s++)
    for (int ch = 0; ch < c; ch++)
      memcpy (dst + ((gsize) ch * n + s) * plane,
          src + ((gsize) s * c + ch) * plane, plane * sizeof (float));
}

/**
 * anogan_cnhw_to_nchw:
 * @src: a channel-major batch
 * @dst: the same values in PyTorch's layout
 * @n: samples
 * @c: channels (features for vectors)
 * @plane: floats per channel and sample (H·W, or 1 for vectors)
 *
 * The inverse of anogan_nchw_to_cnhw().
 */
void
anogan_cnhw_to_nchw (const float *src, float *dst, int n, int c, gsize plane)
{
  for (int s = 0; s < n; s++)
    for (int ch = 0; ch < c; ch++)
      memcpy (dst + ((gsize) s * c + ch) * plane,
          src + ((gsize) ch * n + s) * plane, plane * sizeof (float));
}
