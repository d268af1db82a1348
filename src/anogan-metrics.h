/* anogan-metrics.h: how well scores separate anomalies from normal data
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define ANOGAN_METRICS_ERROR (anogan_metrics_error_quark ())
GQuark anogan_metrics_error_quark (void);

/**
 * AnoganMetricsError:
 * @ANOGAN_METRICS_ERROR_NAN: a score is not a number, so it has no place
 *   in a ranking
 * @ANOGAN_METRICS_ERROR_EMPTY: there is nothing to compute the metric on
 * @ANOGAN_METRICS_ERROR_RANGE: a parameter is out of its range
 *
 * Why a metric could not be computed.
 */
typedef enum {
  ANOGAN_METRICS_ERROR_NAN,
  ANOGAN_METRICS_ERROR_EMPTY,
  ANOGAN_METRICS_ERROR_RANGE,
} AnoganMetricsError;

/**
 * AnoganRocPoint:
 * @threshold: scores >= @threshold are called anomalous; +inf for the
 *   first point, where nothing is
 * @true_positives: anomalous samples called anomalous
 * @false_positives: normal samples called anomalous
 * @tpr: true positive rate (recall), @true_positives / positives; NaN
 *   when there are no positives
 * @fpr: false positive rate, @false_positives / negatives; NaN when there
 *   are no negatives
 * @precision: @true_positives / (@true_positives + @false_positives);
 *   1 at the first point, where nothing is called anomalous (as
 *   scikit-learn)
 *
 * One operating point of a detector.
 */
typedef struct {
  double threshold;
  gsize true_positives;
  gsize false_positives;
  double tpr;
  double fpr;
  double precision;
} AnoganRocPoint;

/**
 * AnoganRoc:
 * @n_positives: anomalous samples
 * @n_negatives: normal samples
 * @points: @n_points operating points by decreasing threshold: +inf first
 *   (nothing called anomalous), then every distinct score, the last one
 *   calling everything anomalous
 * @n_points: 1 + the number of distinct scores
 * @auroc: area under the ROC curve; NaN when a class is empty
 * @average_precision: Σ (R_k − R_{k−1})·P_k over the points; NaN without
 *   positives
 * @best_f1: the highest F1 = 2·TP / (2·TP + FP + FN) over the points
 * @best_f1_threshold: the threshold where @best_f1 is reached (the highest
 *   one on ties)
 *
 * The ROC curve of a set of scores and the metrics derived from it.
 */
typedef struct {
  gsize n_positives;
  gsize n_negatives;
  AnoganRocPoint *points;
  gsize n_points;
  double auroc;
  double average_precision;
  double best_f1;
  double best_f1_threshold;
} AnoganRoc;

AnoganRoc *anogan_roc_new (const double *positives, gsize n_positives,
    const double *negatives, gsize n_negatives, GError **error);
void anogan_roc_free (AnoganRoc *roc);
const AnoganRocPoint *anogan_roc_at_threshold (const AnoganRoc *roc,
    double threshold);
double anogan_roc_point_f1 (const AnoganRoc *roc,
    const AnoganRocPoint *point);

gboolean anogan_metrics_pixel_auroc (const float *scores,
    const guint8 *labels, gsize n, double *auroc, GError **error);
gboolean anogan_metrics_quantile (const double *values, gsize n, double q,
    double *quantile, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AnoganRoc, anogan_roc_free)

G_END_DECLS
