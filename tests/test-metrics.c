/* test-metrics.c: ROC, AUROC, average precision, F1 and quantiles
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The library sorts once and walks the scores; the references here do it
 * the slow, obvious way: Mann-Whitney over every pair of samples, and
 * precision, recall and F1 counted afresh at every threshold.
 */
#include <math.h>
#include <string.h>

#include "anogan-metrics.h"
#include "anogan-test-util.h"

#define EXACT 1e-12

/* ---- brute-force references --------------------------------------------- */

/* Mann-Whitney U / (n_pos · n_neg): a positive above a negative counts 1,
 * a tie 1/2.  O(n²). */
static double
reference_auroc (const double *pos, gsize n_pos, const double *neg,
    gsize n_neg)
{
  double u = 0.0;

  for (gsize i = 0; i < n_pos; i++)
    for (gsize j = 0; j < n_neg; j++)
      u += pos[i] > neg[j] ? 1.0 : pos[i] == neg[j] ? 0.5 : 0.0;
  return u / ((double) n_pos * n_neg);
}

static gsize
count_at_least (const double *x, gsize n, double threshold)
{
  gsize c = 0;

  for (gsize i = 0; i < n; i++)
    c += x[i] >= threshold;
  return c;
}

/* Every distinct score, highest first.  O(n²), which is the point. */
static double *
distinct_descending (const double *pos, gsize n_pos, const double *neg,
    gsize n_neg, gsize *n_distinct)
{
  double *t = g_new (double, n_pos + n_neg);
  gsize n = 0;

  for (gsize i = 0; i < n_pos + n_neg; i++) {
    double v = i < n_pos ? pos[i] : neg[i - n_pos];
    gboolean seen = FALSE;
    for (gsize k = 0; k < n; k++)
      seen |= t[k] == v;
    if (!seen)
      t[n++] = v;
  }
  /* Selection sort, descending. */
  for (gsize a = 0; a < n; a++)
    for (gsize b = a + 1; b < n; b++)
      if (t[b] > t[a]) {
        double s = t[a];
        t[a] = t[b];
        t[b] = s;
      }
  *n_distinct = n;
  return t;
}

typedef struct {
  double average_precision;
  double best_f1;
  double best_f1_threshold;
  gsize n_thresholds;
} Reference;

/* Average precision as scikit-learn defines it, Σ (R_k − R_{k−1})·P_k,
 * and the best F1, by enumerating every threshold and counting. */
static Reference
reference_curve (const double *pos, gsize n_pos, const double *neg,
    gsize n_neg)
{
  Reference r = { 0.0, -1.0, NAN, 0 };
  g_autofree double *t = distinct_descending (pos, n_pos, neg, n_neg,
      &r.n_thresholds);
  double previous_recall = 0.0;

  for (gsize k = 0; k < r.n_thresholds; k++) {
    double tp = count_at_least (pos, n_pos, t[k]);
    double fp = count_at_least (neg, n_neg, t[k]);
    double fn = n_pos - tp;
    double precision = tp / (tp + fp);
    double recall = tp / n_pos;
    double f1 = 2 * tp / (2 * tp + fp + fn);

    r.average_precision += (recall - previous_recall) * precision;
    previous_recall = recall;
    if (f1 > r.best_f1) {
      r.best_f1 = f1;
      r.best_f1_threshold = t[k];
    }
  }
  return r;
}

/* Checks everything anogan_roc_new() says against the references. */
static void
check_against_reference (const double *pos, gsize n_pos, const double *neg,
    gsize n_neg)
{
  GError *error = NULL;
  g_autoptr (AnoganRoc) roc = anogan_roc_new (pos, n_pos, neg, n_neg,
      &error);
  Reference want = reference_curve (pos, n_pos, neg, n_neg);

  g_assert_no_error (error);
  g_assert_nonnull (roc);
  g_assert_cmpuint (roc->n_positives, ==, n_pos);
  g_assert_cmpuint (roc->n_negatives, ==, n_neg);
  g_assert_cmpfloat_with_epsilon (roc->auroc,
      reference_auroc (pos, n_pos, neg, n_neg), EXACT);
  g_assert_cmpfloat_with_epsilon (roc->average_precision,
      want.average_precision, EXACT);
  g_assert_cmpfloat_with_epsilon (roc->best_f1, want.best_f1, EXACT);
  g_assert_cmpfloat (roc->best_f1_threshold, ==, want.best_f1_threshold);

  /* One point above everything, then one per distinct score, each with
   * the counts a direct count gives. */
  g_assert_cmpuint (roc->n_points, ==, want.n_thresholds + 1);
  g_assert_cmpfloat (roc->points[0].threshold, ==, INFINITY);
  g_assert_cmpuint (roc->points[0].true_positives, ==, 0);
  g_assert_cmpuint (roc->points[0].false_positives, ==, 0);
  for (gsize k = 1; k < roc->n_points; k++) {
    const AnoganRocPoint *p = &roc->points[k];
    gsize tp = count_at_least (pos, n_pos, p->threshold);
    gsize fp = count_at_least (neg, n_neg, p->threshold);

    g_assert_cmpfloat (p->threshold, <, roc->points[k - 1].threshold);
    g_assert_cmpuint (p->true_positives, ==, tp);
    g_assert_cmpuint (p->false_positives, ==, fp);
    g_assert_cmpfloat_with_epsilon (p->tpr, (double) tp / n_pos, EXACT);
    g_assert_cmpfloat_with_epsilon (p->fpr, (double) fp / n_neg, EXACT);
    g_assert_cmpfloat_with_epsilon (p->precision, (double) tp / (tp + fp),
        EXACT);
  }
  g_assert_cmpfloat (roc->points[roc->n_points - 1].tpr, ==, 1.0);
  g_assert_cmpfloat (roc->points[roc->n_points - 1].fpr, ==, 1.0);
}

/* Scores with many ties: integers 0 to @levels − 1, the positives shifted
 * up by @shift so that the classes overlap without being identical. */
static void
fill_tied (double *x, gsize n, guint64 *rng, int levels, int shift)
{
  for (gsize i = 0; i < n; i++)
    x[i] = shift + (int) anogan_test_uniform (rng, 0.0f, levels - 0.001f);
}

/* ---- hand-worked cases -------------------------------------------------- */

static void
test_roc_hand_worked (void)
{
  /* Positives 0.9, 0.5, 0.3; negatives 0.5, 0.2 (one tie, at 0.5).
   *
   *   threshold  TP FP  precision  recall  F1 = 2TP/(TP+FP+3)
   *   0.9        1  0   1          1/3     2/4 = 0.5
   *   0.5        2  1   2/3        2/3     4/6 = 0.667
   *   0.3        3  1   3/4        1       6/7 = 0.857  <- best
   *   0.2        3  2   3/5        1       6/8 = 0.75
   *
   * Mann-Whitney: 0.9 beats both negatives (2), 0.5 ties 0.5 (1/2) and
   * beats 0.2 (1), 0.3 beats 0.2 (1): U = 4.5, AUROC = 4.5 / 6 = 0.75.
   * AP = 1/3·1 + 1/3·2/3 + 1/3·3/4 + 0·3/5 = (12 + 8 + 9) / 36 = 29/36. */
  const double pos[] = { 0.9, 0.5, 0.3 };
  const double neg[] = { 0.5, 0.2 };
  const double fpr[] = { 0.0, 0.0, 0.5, 0.5, 1.0 };
  const double tpr[] = { 0.0, 1.0 / 3, 2.0 / 3, 1.0, 1.0 };
  GError *error = NULL;
  g_autoptr (AnoganRoc) roc = anogan_roc_new (pos, 3, neg, 2, &error);

  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (roc->auroc, 0.75, EXACT);
  g_assert_cmpfloat_with_epsilon (roc->average_precision, 29.0 / 36, EXACT);
  g_assert_cmpfloat_with_epsilon (roc->best_f1, 6.0 / 7, EXACT);
  g_assert_cmpfloat (roc->best_f1_threshold, ==, 0.3);
  g_assert_cmpuint (roc->n_points, ==, 5);
  for (int k = 0; k < 5; k++) {
    g_assert_cmpfloat_with_epsilon (roc->points[k].fpr, fpr[k], EXACT);
    g_assert_cmpfloat_with_epsilon (roc->points[k].tpr, tpr[k], EXACT);
  }
  check_against_reference (pos, 3, neg, 2);
}

static void
test_roc_separable (void)
{
  /* Perfect: every threshold between 1 and 2 separates; at 2, TP = 2 and
   * FP = 0, so precision, recall, F1, AP and AUROC are all 1. */
  const double pos[] = { 3.0, 2.0 };
  const double neg[] = { 1.0, 0.0 };
  /* Reversed: one positive at 0 below one negative at 1.
   *   threshold 1: TP 0, FP 1, F1 0
   *   threshold 0: TP 1, FP 1, precision 1/2, recall 1, F1 2/3
   * AP = 0·0 + 1·1/2 = 1/2, AUROC = 0. */
  const double low[] = { 0.0 };
  const double high[] = { 1.0 };
  g_autoptr (AnoganRoc) good = anogan_roc_new (pos, 2, neg, 2, NULL);
  g_autoptr (AnoganRoc) bad = anogan_roc_new (low, 1, high, 1, NULL);

  g_assert_cmpfloat (good->auroc, ==, 1.0);
  g_assert_cmpfloat (good->average_precision, ==, 1.0);
  g_assert_cmpfloat (good->best_f1, ==, 1.0);
  g_assert_cmpfloat (good->best_f1_threshold, ==, 2.0);

  g_assert_cmpfloat (bad->auroc, ==, 0.0);
  g_assert_cmpfloat_with_epsilon (bad->average_precision, 0.5, EXACT);
  g_assert_cmpfloat_with_epsilon (bad->best_f1, 2.0 / 3, EXACT);
  g_assert_cmpfloat (bad->best_f1_threshold, ==, 0.0);
}

static void
test_roc_all_equal (void)
{
  /* Five scores of 5: one threshold, calling all of them anomalous:
   * TP 2, FP 3, precision 2/5, recall 1, F1 = 4 / (2 + 3 + 2) = 4/7.
   * Every pair ties: AUROC 1/2.  AP = 1 · 2/5. */
  const double pos[] = { 5.0, 5.0 };
  const double neg[] = { 5.0, 5.0, 5.0 };
  g_autoptr (AnoganRoc) roc = anogan_roc_new (pos, 2, neg, 3, NULL);

  g_assert_cmpuint (roc->n_points, ==, 2);
  g_assert_cmpfloat (roc->auroc, ==, 0.5);
  g_assert_cmpfloat_with_epsilon (roc->average_precision, 0.4, EXACT);
  g_assert_cmpfloat_with_epsilon (roc->best_f1, 4.0 / 7, EXACT);
  g_assert_cmpfloat (roc->best_f1_threshold, ==, 5.0);
}

static void
test_roc_one_class (void)
{
  const double one[] = { 1.0 };
  const double three[] = { 2.0, -1.0, 2.0 };
  g_autoptr (AnoganRoc) only_pos = anogan_roc_new (one, 1, NULL, 0, NULL);
  g_autoptr (AnoganRoc) only_neg = anogan_roc_new (NULL, 0, three, 3, NULL);

  /* One anomalous sample and nothing else: no AUROC without negatives;
   * at threshold 1, TP 1 and FP 0, so AP = 1 and F1 = 2 / (1 + 0 + 1). */
  g_assert_nonnull (only_pos);
  g_assert_cmpuint (only_pos->n_points, ==, 2);
  g_assert_true (isnan (only_pos->auroc));
  g_assert_cmpfloat (only_pos->average_precision, ==, 1.0);
  g_assert_cmpfloat (only_pos->best_f1, ==, 1.0);
  g_assert_true (isnan (only_pos->points[1].fpr));
  g_assert_cmpfloat (only_pos->points[1].tpr, ==, 1.0);

  /* Normal samples only: no AUROC, no recall, so no AP; every threshold
   * finds nothing, F1 = 0, first reached at the highest score. */
  g_assert_nonnull (only_neg);
  g_assert_cmpuint (only_neg->n_points, ==, 3);
  g_assert_true (isnan (only_neg->auroc));
  g_assert_true (isnan (only_neg->average_precision));
  g_assert_cmpfloat (only_neg->best_f1, ==, 0.0);
  g_assert_cmpfloat (only_neg->best_f1_threshold, ==, 2.0);
  g_assert_cmpfloat (only_neg->points[2].fpr, ==, 1.0);
  g_assert_true (isnan (only_neg->points[2].tpr));
}

static void
test_roc_errors (void)
{
  const double ok[] = { 1.0, 2.0 };
  const double bad[] = { 1.0, NAN };
  GError *error = NULL;

  g_assert_null (anogan_roc_new (NULL, 0, NULL, 0, &error));
  g_assert_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_EMPTY);
  g_clear_error (&error);

  g_assert_null (anogan_roc_new (bad, 2, ok, 2, &error));
  g_assert_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_NAN);
  g_assert_nonnull (strstr (error->message, "Anomalous score 1"));
  g_clear_error (&error);

  g_assert_null (anogan_roc_new (ok, 2, bad, 2, &error));
  g_assert_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_NAN);
  g_assert_nonnull (strstr (error->message, "Normal score 1"));
  g_clear_error (&error);
}

static void
test_roc_infinite_scores (void)
{
  /* A diverged search may score +inf: it ranks above everything.
   *   threshold inf: TP 1, FP 0;  3: TP 1, FP 1;  1: TP 2, FP 1;
   *   -inf: TP 2, FP 2.
   * U: inf beats 3 and -inf (2), 1 beats -inf (1): AUROC 3/4. */
  const double pos[] = { INFINITY, 1.0 };
  const double neg[] = { 3.0, -INFINITY };
  g_autoptr (AnoganRoc) roc = anogan_roc_new (pos, 2, neg, 2, NULL);

  g_assert_cmpuint (roc->n_points, ==, 5);
  g_assert_cmpfloat (roc->auroc, ==, 0.75);
  g_assert_cmpuint (roc->points[1].true_positives, ==, 1);
  g_assert_cmpuint (roc->points[4].false_positives, ==, 2);
}

/* ---- random data -------------------------------------------------------- */

static void
test_roc_random_ties (void)
{
  guint64 rng = anogan_test_rng (17);
  const gsize sizes[][2] = {
    { 1, 1 }, { 1, 5 }, { 4, 1 }, { 3, 7 }, { 20, 20 }, { 50, 200 },
    { 300, 120 }, { 500, 500 },
  };

  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int levels = 2; levels <= 30; levels += 7) {
      gsize n_pos = sizes[s][0], n_neg = sizes[s][1];
      g_autofree double *pos = g_new (double, n_pos);
      g_autofree double *neg = g_new (double, n_neg);

      fill_tied (pos, n_pos, &rng, levels, levels / 3);
      fill_tied (neg, n_neg, &rng, levels, 0);
      check_against_reference (pos, n_pos, neg, n_neg);
    }
}

static void
test_roc_random_continuous (void)
{
  guint64 rng = anogan_test_rng (29);

  for (int round = 0; round < 5; round++) {
    gsize n_pos = 40 + 37 * round, n_neg = 300 - 41 * round;
    g_autofree double *pos = g_new (double, n_pos);
    g_autofree double *neg = g_new (double, n_neg);

    for (gsize i = 0; i < n_pos; i++)
      pos[i] = anogan_test_uniform (&rng, 0.3f, 1.5f);
    for (gsize i = 0; i < n_neg; i++)
      neg[i] = anogan_test_uniform (&rng, 0.0f, 1.0f);
    check_against_reference (pos, n_pos, neg, n_neg);
  }
}

static void
test_roc_at_threshold (void)
{
  guint64 rng = anogan_test_rng (41);
  double pos[60], neg[90];
  g_autoptr (AnoganRoc) roc = NULL;

  fill_tied (pos, 60, &rng, 12, 3);
  fill_tied (neg, 90, &rng, 12, 0);
  roc = anogan_roc_new (pos, 60, neg, 90, NULL);

  /* Thresholds on the scores, between them, above and below them all. */
  for (double t = -2.0; t <= 17.0; t += 0.25) {
    const AnoganRocPoint *p = anogan_roc_at_threshold (roc, t);
    gsize tp = count_at_least (pos, 60, t), fp = count_at_least (neg, 90, t);

    g_assert_nonnull (p);
    g_assert_cmpuint (p->true_positives, ==, tp);
    g_assert_cmpuint (p->false_positives, ==, fp);
    g_assert_cmpfloat_with_epsilon (anogan_roc_point_f1 (roc, p),
        2.0 * tp / (2.0 * tp + fp + (60 - tp)), EXACT);
  }
  g_assert_true (anogan_roc_at_threshold (roc, INFINITY) == &roc->points[0]);
  g_assert_null (anogan_roc_at_threshold (roc, NAN));
}

/* ---- pixels ------------------------------------------------------------- */

static void
test_pixel_auroc_small (void)
{
  guint64 rng = anogan_test_rng (5);
  const gsize n = 3000;
  g_autofree float *scores = g_new (float, n);
  g_autofree guint8 *labels = g_new (guint8, n);
  g_autofree double *pos = g_new (double, n);
  g_autofree double *neg = g_new (double, n);
  gsize n_pos = 0, n_neg = 0;
  double auroc;
  GError *error = NULL;

  /* Residual-like scores quantised to 1/64 (many ties), defects brighter
   * on average; labels are any nonzero byte. */
  for (gsize i = 0; i < n; i++) {
    gboolean defect = anogan_test_uniform (&rng, 0.0f, 1.0f) < 0.2f;
    float v = anogan_test_uniform (&rng, 0.0f, defect ? 1.5f : 1.0f);

    scores[i] = floorf (v * 64.0f) / 64.0f;
    labels[i] = defect ? (guint8) (1 + i % 255) : 0;
    if (defect)
      pos[n_pos++] = scores[i];
    else
      neg[n_neg++] = scores[i];
  }

  g_assert_true (anogan_metrics_pixel_auroc (scores, labels, n, &auroc,
          &error));
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (auroc,
      reference_auroc (pos, n_pos, neg, n_neg), EXACT);
}

static void
test_pixel_auroc_large (void)
{
  /* Four million pixels: a quadratic method would take hours.  The
   * reference counts on the grid of values instead of the pixels.
   * Normal pixels take values 0..K-1 and defects 0..K-1 shifted by S,
   * value v of either kind appearing c(v) = 1 + v % 7 times per
   * repetition. */
  const int K = 1000, S = 150;
  gsize n = 0, n_pos = 0, n_neg = 0, capacity = 0;
  g_autofree float *scores = NULL;
  g_autofree guint8 *labels = NULL;
  g_autofree double *count_pos = g_new0 (double, K + S);
  g_autofree double *count_neg = g_new0 (double, K + S);
  double u = 0.0, auroc;
  int repeats = 0;

  for (int v = 0; v < K; v++)
    capacity += 2 * (1 + v % 7);
  repeats = (int) (4000000 / capacity) + 1;
  capacity *= repeats;
  scores = g_new (float, capacity);
  labels = g_new (guint8, capacity);

  /* Interleaved, so that nothing is sorted to begin with. */
  for (int r = 0; r < repeats; r++)
    for (int v = 0; v < K; v++)
      for (int c = 0; c < 1 + v % 7; c++) {
        scores[n] = (float) (K - 1 - v);
        labels[n++] = 0;
        count_neg[K - 1 - v]++;
        scores[n] = (float) (v + S);
        labels[n++] = 1;
        count_pos[v + S]++;
      }
  g_assert_cmpuint (n, ==, capacity);
  g_assert_cmpuint (n, >=, 4000000);

  for (int a = 0; a < K + S; a++)
    for (int b = 0; b < K + S; b++)
      u += count_pos[a] * count_neg[b] * (a > b ? 1.0 : a == b ? 0.5 : 0.0);
  for (int v = 0; v < K + S; v++) {
    n_pos += (gsize) count_pos[v];
    n_neg += (gsize) count_neg[v];
  }

  g_assert_true (anogan_metrics_pixel_auroc (scores, labels, n, &auroc,
          NULL));
  g_assert_cmpfloat_with_epsilon (auroc, u / ((double) n_pos * n_neg),
      EXACT);
  /* A shift of 15 % of the range separates most but not all. */
  g_assert_cmpfloat (auroc, >, 0.6);
  g_assert_cmpfloat (auroc, <, 1.0);
}

static void
test_pixel_auroc_degenerate (void)
{
  const float scores[] = { 0.5f, 0.2f, NAN };
  const guint8 none[] = { 0, 0, 0 };
  const guint8 all[] = { 1, 1, 1 };
  double auroc = 0.0;
  GError *error = NULL;

  /* One class only: defined as NaN, not an error. */
  g_assert_true (anogan_metrics_pixel_auroc (scores, none, 2, &auroc, NULL));
  g_assert_true (isnan (auroc));
  g_assert_true (anogan_metrics_pixel_auroc (scores, all, 2, &auroc, NULL));
  g_assert_true (isnan (auroc));

  g_assert_false (anogan_metrics_pixel_auroc (scores, all, 0, &auroc,
          &error));
  g_assert_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_EMPTY);
  g_clear_error (&error);
  g_assert_false (anogan_metrics_pixel_auroc (scores, all, 3, &auroc,
          &error));
  g_assert_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_NAN);
  g_assert_nonnull (strstr (error->message, "Pixel score 2"));
  g_clear_error (&error);
}

/* ---- quantiles ---------------------------------------------------------- */

static double
quantile (const double *x, gsize n, double q)
{
  double value = NAN;
  GError *error = NULL;

  g_assert_true (anogan_metrics_quantile (x, n, q, &value, &error));
  g_assert_no_error (error);
  return value;
}

static void
test_quantile_hand_worked (void)
{
  /* Sorted: 1 1 3 4 5 (n = 5), h = 4q.
   *   q = 0     h = 0    -> 1
   *   q = 0.1   h = 0.4  -> 1 + 0.4·(1 − 1) = 1
   *   q = 0.25  h = 1    -> 1
   *   q = 0.3   h = 1.2  -> 1 + 0.2·(3 − 1) = 1.4
   *   q = 0.5   h = 2    -> 3
   *   q = 0.9   h = 3.6  -> 4 + 0.6·(5 − 4) = 4.6
   *   q = 1     h = 4    -> 5
   * numpy.quantile([3, 1, 4, 1, 5], q) gives the same. */
  const double x[] = { 3.0, 1.0, 4.0, 1.0, 5.0 };
  /* Two values: h = q, 10 + 0.75·(20 − 10) = 17.5. */
  const double two[] = { 20.0, 10.0 };
  const double one[] = { 7.0 };
  const double inf[] = { INFINITY, 1.0 };

  g_assert_cmpfloat (quantile (x, 5, 0.0), ==, 1.0);
  g_assert_cmpfloat (quantile (x, 5, 0.1), ==, 1.0);
  g_assert_cmpfloat (quantile (x, 5, 0.25), ==, 1.0);
  g_assert_cmpfloat_with_epsilon (quantile (x, 5, 0.3), 1.4, EXACT);
  g_assert_cmpfloat (quantile (x, 5, 0.5), ==, 3.0);
  g_assert_cmpfloat_with_epsilon (quantile (x, 5, 0.9), 4.6, EXACT);
  g_assert_cmpfloat (quantile (x, 5, 1.0), ==, 5.0);
  g_assert_cmpfloat (quantile (two, 2, 0.75), ==, 17.5);
  for (double q = 0.0; q <= 1.0; q += 0.125)
    g_assert_cmpfloat (quantile (one, 1, q), ==, 7.0);
  g_assert_cmpfloat (quantile (inf, 2, 0.0), ==, 1.0);
  g_assert_cmpfloat (quantile (inf, 2, 0.5), ==, INFINITY);
  /* The input is left as it was. */
  g_assert_cmpfloat (x[0], ==, 3.0);
  g_assert_cmpfloat (x[4], ==, 5.0);
}

static void
test_quantile_errors (void)
{
  const double x[] = { 1.0, NAN, 2.0 };
  double value = 42.0;
  GError *error = NULL;

  g_assert_false (anogan_metrics_quantile (x, 0, 0.5, &value, &error));
  g_assert_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_EMPTY);
  g_clear_error (&error);
  g_assert_false (anogan_metrics_quantile (x, 1, -0.1, &value, &error));
  g_assert_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_RANGE);
  g_clear_error (&error);
  g_assert_false (anogan_metrics_quantile (x, 1, 1.5, &value, &error));
  g_assert_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_RANGE);
  g_clear_error (&error);
  g_assert_false (anogan_metrics_quantile (x, 1, NAN, &value, &error));
  g_assert_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_RANGE);
  g_clear_error (&error);
  g_assert_false (anogan_metrics_quantile (x, 3, 0.5, &value, &error));
  g_assert_error (error, ANOGAN_METRICS_ERROR, ANOGAN_METRICS_ERROR_NAN);
  g_clear_error (&error);
  g_assert_cmpfloat (value, ==, 42.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/roc/hand-worked", test_roc_hand_worked);
  g_test_add_func ("/roc/separable", test_roc_separable);
  g_test_add_func ("/roc/all-equal", test_roc_all_equal);
  g_test_add_func ("/roc/one-class", test_roc_one_class);
  g_test_add_func ("/roc/errors", test_roc_errors);
  g_test_add_func ("/roc/infinite-scores", test_roc_infinite_scores);
  g_test_add_func ("/roc/random-ties", test_roc_random_ties);
  g_test_add_func ("/roc/random-continuous", test_roc_random_continuous);
  g_test_add_func ("/roc/at-threshold", test_roc_at_threshold);
  g_test_add_func ("/pixel-auroc/small", test_pixel_auroc_small);
  g_test_add_func ("/pixel-auroc/large", test_pixel_auroc_large);
  g_test_add_func ("/pixel-auroc/degenerate", test_pixel_auroc_degenerate);
  g_test_add_func ("/quantile/hand-worked", test_quantile_hand_worked);
  g_test_add_func ("/quantile/errors", test_quantile_errors);
  return g_test_run ();
}
