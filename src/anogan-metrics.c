/* anogan-metrics.c: how well scores separate anomalies from normal data
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every metric here comes from one walk down the scores of both classes,
 * each sorted once, from the highest to the lowest: at every distinct
 * score the threshold drops past all samples holding it, so ties move the
 * curve in one step.  That keeps the cost at O(n log n) for the sort and
 * O(n) for the rest, which matters for pixel-level metrics over tens of
 * millions of pixels.
 */
#include "anogan-metrics.h"

#include <math.h>
#include <stdlib.h>

G_DEFINE_QUARK (anogan-metrics-error-quark, anogan_metrics_error)

static int
compare_descending (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x < y) - (x > y);
}

static int
compare_ascending (const void *a, const void *b)
{
  return compare_descending (b, a);
}

/* A sorted copy of @values, or NULL with an error if one is NaN: NaN has
 * no place in an order, and qsort() given one is undefined. */
static double *
sorted_copy (const double *values, gsize n, const char *what,
    int (*compare) (const void *, const void *), GError **error)
{
  double *copy;

  for (gsize i = 0; i < n; i++)
    if (isnan (values[i])) {
      g_set_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_NAN,
          "%s score %" G_GSIZE_FORMAT " is not a number", what, i);
      return NULL;
    }
  copy = g_new (double, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    copy[i] = values[i];
  qsort (copy, n, sizeof *copy, compare);
  return copy;
}

static double
f1_of_counts (gsize tp, gsize fp, gsize n_positives)
{
  /* 2·TP / (2·TP + FP + FN) with FN = positives − TP. */
  gsize denominator = tp + fp + n_positives;

  return denominator ? 2.0 * tp / denominator : NAN;
}

static void
fill_point (AnoganRocPoint *p, double threshold, gsize tp, gsize fp,
    gsize n_positives, gsize n_negatives)
{
  p->threshold = threshold;
  p->true_positives = tp;
  p->false_positives = fp;
  p->tpr = n_positives ? (double) tp / n_positives : NAN;
  p->fpr = n_negatives ? (double) fp / n_negatives : NAN;
  p->precision = tp + fp ? (double) tp / (tp + fp) : 1.0;
}

/* The walk.  @pos and @neg are sorted in decreasing order.  Fills the
 * summary fields of @roc and, if @roc->points is not NULL, the points.
 *
 * The area is accumulated as twice the Mann-Whitney U in whole numbers:
 * each step adds ΔFP · (TP_before + TP_after), the trapezoid under the
 * step, which counts a positive tied with a negative as one half.  The
 * sums stay exact in a double up to 2^53, far beyond any data set here. */
static void
walk (const double *pos, gsize n_pos, const double *neg, gsize n_neg,
    AnoganRoc *roc)
{
  gsize i = 0, j = 0, k = 1;
  double twice_u = 0.0, ap = 0.0;

  roc->n_positives = n_pos;
  roc->n_negatives = n_neg;
  roc->best_f1 = -1.0;
  roc->best_f1_threshold = NAN;
  if (roc->points)
    fill_point (&roc->points[0], INFINITY, 0, 0, n_pos, n_neg);

  while (i < n_pos || j < n_neg) {
    gsize tp0 = i, fp0 = j;
    double t, f1;

    if (j >= n_neg || (i < n_pos && pos[i] >= neg[j]))
      t = pos[i];
    else
      t = neg[j];
    while (i < n_pos && pos[i] == t)
      i++;
    while (j < n_neg && neg[j] == t)
      j++;

    twice_u += (double) (j - fp0) * (double) (i + tp0);
    if (i > tp0)
      ap += (double) (i - tp0) * ((double) i / (i + j));
    f1 = f1_of_counts (i, j, n_pos);
    if (f1 > roc->best_f1) {
      roc->best_f1 = f1;
      roc->best_f1_threshold = t;
    }
    if (roc->points)
      fill_point (&roc->points[k], t, i, j, n_pos, n_neg);
    k++;
  }

  roc->n_points = k;
  roc->auroc = n_pos && n_neg ?
      twice_u / (2.0 * (double) n_pos * (double) n_neg) : NAN;
  roc->average_precision = n_pos ? ap / n_pos : NAN;
}

/**
 * anogan_roc_new:
 * @positives: scores of the anomalous samples
 * @n_positives: how many
 * @negatives: scores of the normal samples
 * @n_negatives: how many
 * @error: return location for a #GError
 *
 * Computes the ROC curve of a detector that calls a sample anomalous when
 * its score is at least the threshold, at every distinct threshold, and
 * from it:
 *
 * - the AUROC, the trapezoidal area under the curve.  It equals the
 *   Mann-Whitney U statistic divided by @n_positives · @n_negatives: the
 *   probability that a random anomalous sample scores higher than a
 *   random normal one, ties counting one half.
 * - the average precision, Σ (R_k − R_{k−1})·P_k over the thresholds from
 *   the highest down, R the recall and P the precision at threshold k
 *   (scikit-learn's average_precision_score: steps, no interpolation).
 * - the best F1 over the thresholds, and where it is reached.
 *
 * A class may be empty (the metrics that need it are then NaN), not both.
 * Infinite scores are ranked as such.  O(n log n) for n scores.
 *
 * Returns: (transfer full): the curve, or %NULL when there are no scores
 *   at all (%ANOGAN_METRICS_ERROR_EMPTY) or a score is NaN
 *   (%ANOGAN_METRICS_ERROR_NAN)
 */
AnoganRoc *
anogan_roc_new (const double *positives, gsize n_positives,
    const double *negatives, gsize n_negatives, GError **error)
{
  g_autofree double *pos = NULL;
  g_autofree double *neg = NULL;
  AnoganRoc *roc;

  if (n_positives + n_negatives == 0) {
    g_set_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_EMPTY,
        "No scores to compute a ROC curve from");
    return NULL;
  }
  pos = sorted_copy (positives, n_positives, "Anomalous", compare_descending,
      error);
  if (!pos)
    return NULL;
  neg = sorted_copy (negatives, n_negatives, "Normal", compare_descending,
      error);
  if (!neg)
    return NULL;

  roc = g_new0 (AnoganRoc, 1);
  /* At most one point per score, plus the one above every score. */
  roc->points = g_new (AnoganRocPoint, n_positives + n_negatives + 1);
  walk (pos, n_positives, neg, n_negatives, roc);
  roc->points = g_renew (AnoganRocPoint, roc->points, roc->n_points);
  return roc;
}

/**
 * anogan_roc_free:
 * @roc: (nullable): a curve
 *
 * Frees @roc and its points.
 */
void
anogan_roc_free (AnoganRoc *roc)
{
  if (!roc)
    return;
  g_free (roc->points);
  g_free (roc);
}

/**
 * anogan_roc_at_threshold:
 * @roc: a curve
 * @threshold: any threshold, not NaN
 *
 * The operating point of a threshold that need not be one of the scores,
 * such as a model's calibrated one: the counts at @threshold are those of
 * the point with the smallest threshold still >= @threshold.  Binary
 * search, O(log n).
 *
 * Returns: (transfer none): that point, or %NULL if @threshold is NaN
 */
const AnoganRocPoint *
anogan_roc_at_threshold (const AnoganRoc *roc, double threshold)
{
  gsize lo = 0, hi = roc->n_points;

  if (isnan (threshold))
    return NULL;
  /* points[0].threshold is +inf >= any threshold; find the last point
   * whose threshold is >= @threshold in [lo, hi). */
  while (hi - lo > 1) {
    gsize mid = lo + (hi - lo) / 2;
    if (roc->points[mid].threshold >= threshold)
      lo = mid;
    else
      hi = mid;
  }
  return &roc->points[lo];
}

/**
 * anogan_roc_point_f1:
 * @roc: a curve
 * @point: one of its points
 *
 * Returns: F1 = 2·TP / (2·TP + FP + FN) at @point: 0 when nothing
 *   anomalous is found, NaN when there are no positives and nothing is
 *   called anomalous
 */
double
anogan_roc_point_f1 (const AnoganRoc *roc, const AnoganRocPoint *point)
{
  return f1_of_counts (point->true_positives, point->false_positives,
      roc->n_positives);
}

/**
 * anogan_metrics_pixel_auroc:
 * @scores: one score per pixel (a residual map, say)
 * @labels: one label per pixel: nonzero for a defect, 0 for normal
 * @n: pixels
 * @auroc: (out): the AUROC of @scores against @labels; NaN when every
 *   label is the same
 * @error: return location for a #GError
 *
 * The AUROC of anogan_roc_new() over (score, label) pairs, without
 * keeping the curve: memory is one double per pixel and time O(n log n),
 * so tens of millions of pixels are fine.
 *
 * Returns: %FALSE if @n is 0 or a score is NaN
 */
gboolean
anogan_metrics_pixel_auroc (const float *scores, const guint8 *labels,
    gsize n, double *auroc, GError **error)
{
  g_autofree double *values = NULL;
  gsize n_pos = 0;
  double *pos, *neg;
  AnoganRoc roc = { 0 };

  if (n == 0) {
    g_set_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_EMPTY,
        "No pixels to compute an AUROC from");
    return FALSE;
  }
  for (gsize i = 0; i < n; i++) {
    if (isnan (scores[i])) {
      g_set_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_NAN,
          "Pixel score %" G_GSIZE_FORMAT " is not a number", i);
      return FALSE;
    }
    n_pos += labels[i] != 0;
  }

  /* Positives at the front, negatives behind them, each sorted. */
  values = g_new (double, n);
  pos = values;
  neg = values + n_pos;
  for (gsize i = 0, p = 0, q = 0; i < n; i++) {
    if (labels[i])
      pos[p++] = scores[i];
    else
      neg[q++] = scores[i];
  }
  qsort (pos, n_pos, sizeof *pos, compare_descending);
  qsort (neg, n - n_pos, sizeof *neg, compare_descending);

  walk (pos, n_pos, neg, n - n_pos, &roc);
  *auroc = roc.auroc;
  return TRUE;
}

/**
 * anogan_metrics_quantile:
 * @values: the sample
 * @n: its size, at least 1
 * @q: the quantile, 0 to 1
 * @quantile: (out): the @q quantile of @values
 * @error: return location for a #GError
 *
 * The quantile with linear interpolation between order statistics, as
 * numpy.quantile's default method (Hyndman and Fan's definition 7): with
 * x sorted and h = (n − 1)·q, x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
 * Used to calibrate thresholds on scores of normal data.
 *
 * Returns: %FALSE if @n is 0, @q is outside [0, 1] or a value is NaN
 */
gboolean
anogan_metrics_quantile (const double *values, gsize n, double q,
    double *quantile, GError **error)
{
  g_autofree double *x = NULL;
  double h, fraction;
  gsize lo;

  if (n == 0) {
    g_set_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_EMPTY,
        "No values to take a quantile of");
    return FALSE;
  }
  if (!(q >= 0.0 && q <= 1.0)) {
    g_set_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_RANGE,
        "Quantile %g is not between 0 and 1", q);
    return FALSE;
  }
  x = sorted_copy (values, n, "Value", compare_ascending, error);
  if (!x)
    return FALSE;

  h = (n - 1) * q;
  lo = (gsize) floor (h);
  fraction = h - lo;
  /* Equal neighbours (infinite ones included) need no interpolation, and
   * the top order statistic has no neighbour above. */
  if (lo + 1 >= n || fraction == 0.0 || x[lo] == x[lo + 1])
    *quantile = x[lo];
  else
    *quantile = x[lo] + fraction * (x[lo + 1] - x[lo]);
  return TRUE;
}
