/* anogan-search.h: AnoGAN's search of the latent space
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "anogan-model.h"

G_BEGIN_DECLS

/**
 * AnoganResidualLoss:
 * @ANOGAN_LOSS_L1: Σ|x - G(z)|, as in the AnoGAN paper
 * @ANOGAN_LOSS_L2: Σ(x - G(z))²
 *
 * How the residual part of the loss measures the distance to G(z).
 * The discrimination part is always Σ|f(x) - f(G(z))|.
 */
typedef enum {
  ANOGAN_LOSS_L1,
  ANOGAN_LOSS_L2,
} AnoganResidualLoss;

/**
 * AnoganZInit:
 * @ANOGAN_Z_ZERO: z starts at the origin
 * @ANOGAN_Z_NORMAL: z starts at a standard normal sample
 * @ANOGAN_Z_UNIFORM: z starts at a sample of U(-1, 1)
 * @ANOGAN_Z_ENCODER: z starts at E(x), the model's encoder's guess
 *   (f-AnoGAN); with no iterations the score is f-AnoGAN's one-pass score
 *
 * Where the search starts.  Random starts depend on the seed and the
 * patch's index only, never on batching or threads.
 */
typedef enum {
  ANOGAN_Z_ZERO,
  ANOGAN_Z_NORMAL,
  ANOGAN_Z_UNIFORM,
  ANOGAN_Z_ENCODER,
} AnoganZInit;

/**
 * AnoganMode:
 * @ANOGAN_MODE_OPTIMISE: AnoGAN: Adam steps on z from a fixed start (the
 *   origin, a random draw or the best of the candidates)
 * @ANOGAN_MODE_ENCODER: f-AnoGAN: z = E(x) in one forward pass, no steps
 * @ANOGAN_MODE_HYBRID: z from the encoder, then a few Adam steps
 *
 * How a patch's z is found: the three ways trade time for how close G(z)
 * comes to the patch.  The encoder modes need a model with an encoder.
 */
typedef enum {
  ANOGAN_MODE_OPTIMISE,
  ANOGAN_MODE_ENCODER,
  ANOGAN_MODE_HYBRID,
} AnoganMode;

/**
 * ANOGAN_HYBRID_ITERATIONS:
 *
 * Adam steps after the encoder's start in %ANOGAN_MODE_HYBRID unless told
 * otherwise.
 */
#define ANOGAN_HYBRID_ITERATIONS 10

/**
 * AnoganSearchOptions:
 * @iterations: Adam steps on z (the paper: 500)
 * @learning_rate: Adam's step size
 * @lambda: weight of the discrimination loss; negative takes the model's
 * @loss: the residual loss
 * @z_init: where z starts
 * @seed: seed of random starts
 * @candidates: when positive, each patch starts from the best of this
 *   many fixed points of the latent space (the origin and draws from z's
 *   prior, the same for every patch), judged by the search's own loss;
 *   0 starts as @z_init says.  Not with %ANOGAN_Z_ENCODER.
 * @patience: stop a patch early after this many steps without an
 *   improvement of its loss by more than @tolerance (relative); 0 never
 * @tolerance: relative improvement that counts for @patience
 * @refine_above: only patches whose loss at the start exceeds this take
 *   steps; the others keep their start, and their score is the loss
 *   there (an upper bound of what steps would give).  A screen for the
 *   hybrid mode: on a normal scene most tiles are clearly normal from the
 *   encoder's start alone.  Negative (the default): every patch steps.
 * @threads: worker threads; 0 for one per core
 * @batch: patches per forward and backward pass
 *
 * Settings of a search.  anogan_search_options_init() fills in defaults.
 */
typedef struct {
  int iterations;
  float learning_rate;
  float lambda;
  AnoganResidualLoss loss;
  AnoganZInit z_init;
  guint64 seed;
  int candidates;
  int patience;
  float tolerance;
  float refine_above;
  int threads;
  int batch;
} AnoganSearchOptions;

/**
 * AnoganPatchResult:
 * @score: L(z*) = (1-λ)·residual + λ·discrimination: the anomaly score
 * @residual: Σ|x - G(z*)| (or the squared sum with %ANOGAN_LOSS_L2)
 * @discrimination: Σ|f(x) - f(G(z*))|
 * @iterations: Adam steps taken before stopping
 *
 * What the search found for one patch.
 */
typedef struct {
  float score;
  float residual;
  float discrimination;
  int iterations;
} AnoganPatchResult;

/**
 * AnoganSearchOutputs:
 * @results: one per patch (required)
 * @z: nz floats per patch for z*, or %NULL
 * @generated: C·H·W floats per patch for G(z*) (NCHW), or %NULL
 * @residual_map: C·H·W floats per patch for |x - G(z*)|, or %NULL
 * @trace: iterations + 1 floats per patch for the loss at the start and
 *   after every step, or %NULL: element t is the score a search of t
 *   steps would give, so one long search measures every shorter one (after
 *   an early stop the loss stays where it stopped)
 *
 * Where anogan_search_run() writes what it finds.
 */
typedef struct {
  AnoganPatchResult *results;
  float *z;
  float *generated;
  float *residual_map;
  float *trace;
} AnoganSearchOutputs;

typedef struct _AnoganSearch AnoganSearch;

void anogan_search_options_init (AnoganSearchOptions *options);
void anogan_search_options_set_mode (AnoganSearchOptions *options,
    AnoganMode mode, int iterations);
const char *anogan_mode_name (AnoganMode mode);
gboolean anogan_mode_from_name (const char *name, AnoganMode *mode);
AnoganSearch *anogan_search_new (const AnoganModel *model,
    const AnoganSearchOptions *options, GError **error);
void anogan_search_free (AnoganSearch *search);
const AnoganSearchOptions *anogan_search_get_options (AnoganSearch *search);
gboolean anogan_search_run (AnoganSearch *search, int n_patches,
    const float *patches, const float *z_start, AnoganSearchOutputs *out,
    GError **error);
gsize anogan_search_workspace_bytes (AnoganSearch *search);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AnoganSearch, anogan_search_free)

G_END_DECLS
