/* anogan-random.h: the engine's random numbers (internal)
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): one 64-bit word of state, fast, and the same
 * sequence on every platform, so that seeded weights, starts and dropout
 * masks are reproducible anywhere.
 */
#pragma once

#include <glib.h>
#include <math.h>

static inline guint64
anogan_random_next (guint64 *state)
{
  guint64 z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in [0, 1), from the top 53 bits. */
static inline double
anogan_random_uniform (guint64 *state)
{
  return (anogan_random_next (state) >> 11) * 0x1.0p-53;
}

/* Standard normal by Box-Muller, one value per pair of uniforms; u1 in
 * (0, 1] keeps the logarithm finite. */
static inline double
anogan_random_normal (guint64 *state)
{
  double u1 = ((anogan_random_next (state) >> 11) + 1) * 0x1.0p-53;
  double u2 = anogan_random_uniform (state);

  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}
