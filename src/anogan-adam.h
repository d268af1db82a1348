/* anogan-adam.h: the Adam update, as torch.optim.Adam computes it
 * (internal)
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Kingma and Ba, "Adam: a method for stochastic optimization", ICLR 2015,
 * with the operations in PyTorch's order (moments updated in float,
 * bias corrections folded into the step size and the denominator), so
 * that a search or a training run takes the steps PyTorch would take.
 */
#pragma once

#include <glib.h>
#include <math.h>

typedef struct {
  float step;                   /* lr / (1 - beta1^t) */
  float bias2_sqrt;             /* sqrt (1 - beta2^t) */
  float beta1, beta2, eps;
  float one_minus_beta1;        /* computed in double, as Python does */
  float one_minus_beta2;
} AnoganAdamStep;

/* The coefficients of step @t (1-based). */
static inline AnoganAdamStep
anogan_adam_step_new (double learning_rate, double beta1, double beta2,
    double eps, gint64 t)
{
  AnoganAdamStep a;

  a.step = (float) (learning_rate / (1.0 - pow (beta1, (double) t)));
  a.bias2_sqrt = (float) sqrt (1.0 - pow (beta2, (double) t));
  a.beta1 = (float) beta1;
  a.beta2 = (float) beta2;
  a.eps = (float) eps;
  a.one_minus_beta1 = (float) (1.0 - beta1);
  a.one_minus_beta2 = (float) (1.0 - beta2);
  return a;
}

/* One component: moments @m and @v take gradient @g, then @p moves. */
static inline void
anogan_adam_update (const AnoganAdamStep *a, float *p, float *m, float *v,
    float g)
{
  *m = a->beta1 * *m + a->one_minus_beta1 * g;
  *v = a->beta2 * *v + a->one_minus_beta2 * g * g;
  *p -= a->step * *m / (sqrtf (*v) / a->bias2_sqrt + a->eps);
}
