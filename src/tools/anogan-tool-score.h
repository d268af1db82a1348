/* anogan-tool-score.h: scoring pictures, shared by the command-line tools
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "anogan-model.h"
#include "anogan-search.h"
#include "anogan-tool-data.h"

G_BEGIN_DECLS

/**
 * ANOGAN_TOOL_STRIDE_OF_TILE:
 *
 * The stride of #AnoganToolScoreArgs when --stride is not given: step by
 * the tile size, so that tiles do not overlap.
 */
#define ANOGAN_TOOL_STRIDE_OF_TILE G_MININT

/**
 * ANOGAN_TOOL_ITERATIONS_OF_MODE:
 *
 * The iterations of #AnoganToolScoreArgs when --iterations is not given:
 * as many as the mode takes by default.
 */
#define ANOGAN_TOOL_ITERATIONS_OF_MODE G_MININT

/**
 * AnoganToolScoreArgs:
 * @mode: --mode, or %NULL
 * @iterations: --iterations, or %ANOGAN_TOOL_ITERATIONS_OF_MODE
 * @learning_rate: --lr
 * @lambda: --lambda; negative for the model's
 * @loss: --loss, or %NULL
 * @z_init: --z-init, or %NULL
 * @candidates: --candidates
 * @seed: --seed
 * @threads: --threads
 * @batch: --batch
 * @stride: --stride, or %ANOGAN_TOOL_STRIDE_OF_TILE
 *
 * The command-line options of the search and the tiling, the same in
 * every tool that scores pictures.
 */
typedef struct {
  char *mode;
  int iterations;
  double learning_rate;
  double lambda;
  char *loss;
  char *z_init;
  int candidates;
  gint64 seed;
  int threads;
  int batch;
  int stride;
} AnoganToolScoreArgs;

void anogan_tool_score_args_init (AnoganToolScoreArgs *args);
void anogan_tool_score_args_clear (AnoganToolScoreArgs *args);
void anogan_tool_score_args_add_entries (AnoganToolScoreArgs *args,
    GOptionContext *context, const char *seed_help);
gboolean anogan_tool_score_args_to_options (const AnoganToolScoreArgs *args,
    AnoganSearchOptions *options, GError **error);
AnoganMode anogan_tool_score_args_get_mode (const AnoganToolScoreArgs *args);
double anogan_tool_mode_threshold (const AnoganModel *model, AnoganMode mode);

gboolean anogan_tool_bad_argument (GError **error, const char *format, ...)
    G_GNUC_PRINTF (2, 3);
gboolean anogan_tool_error_is_bad_argument (const GError *error);

/**
 * AnoganToolScorer:
 * @model: the model (borrowed)
 * @search: the search, with its worker threads
 * @stride_x: horizontal step between tiles
 * @stride_y: vertical step between tiles
 * @trace: whether anogan_tool_scorer_run() records each picture's score
 *   after every step of the search (#AnoganToolScore's @trace); %FALSE
 *   unless set after anogan_tool_scorer_new()
 *
 * Everything the pictures of a run share.
 */
typedef struct {
  const AnoganModel *model;
  AnoganSearch *search;
  int stride_x;
  int stride_y;
  gboolean trace;
} AnoganToolScorer;

/**
 * AnoganToolScore:
 * @tiling: the picture's tiles
 * @results: one per tile, in tiling order
 * @worst: the tile that decides the picture's score
 * @residual_map: the picture's residual |x − G(z*)|, width × height floats
 *   as anogan_accumulate_residual() makes it, or %NULL when not asked for
 * @trace: with the scorer's @trace, @n_trace floats: element t is the
 *   picture's score after t steps, the highest of its tiles' losses then
 *   (the worst tile may differ from step to step); else %NULL
 * @n_trace: the search's iterations + 1, or 0 without a trace
 *
 * What the search found for one picture.  Its score is
 * @results[@worst].score.
 */
typedef struct {
  AnoganTiling tiling;
  AnoganPatchResult *results;
  int worst;
  float *residual_map;
  float *trace;
  int n_trace;
} AnoganToolScore;

AnoganToolScorer *anogan_tool_scorer_new (const AnoganModel *model,
    const AnoganSearchOptions *options, int stride, GError **error);
void anogan_tool_scorer_free (AnoganToolScorer *scorer);
gboolean anogan_tool_scorer_run (AnoganToolScorer *scorer,
    AnoganToolPicture *const *pictures, int n_pictures,
    gboolean residual_maps, AnoganToolScore *scores, GError **error);
void anogan_tool_score_clear (AnoganToolScore *score);
guint64 anogan_tool_score_patch_iterations (const AnoganToolScore *score);

void anogan_tool_json_add_number (JsonBuilder *builder, const char *name,
    double value);
char *anogan_tool_json_to_line (JsonBuilder *builder);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AnoganToolScorer, anogan_tool_scorer_free)

G_END_DECLS
