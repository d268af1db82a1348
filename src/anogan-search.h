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
 *
 * Where the search starts.  Random starts depend on the seed and the
 * patch's index only, never on batching or threads.
 */
typedef enum {
  ANOGAN_Z_ZERO,
  ANOGAN_Z_NORMAL,
  ANOGAN_Z_UNIFORM,
} AnoganZInit;

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
 *   0 starts as @z_init says
 * @patience: stop a patch early after this many steps without an
 *   improvement of its loss by more than @tolerance (relative); 0 never
 * @tolerance: relative improvement that counts for @patience
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
 *
 * Where anogan_search_run() writes what it finds.
 */
typedef struct {
  AnoganPatchResult *results;
  float *z;
  float *generated;
  float *residual_map;
} AnoganSearchOutputs;

typedef struct _AnoganSearch AnoganSearch;

void anogan_search_options_init (AnoganSearchOptions *options);
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
