/* anogan-test-util.c: helpers shared by the test programs */
#include "anogan-test-util.h"

#include <math.h>

/* Files written by tests/golden/make-golden.py live in $ANOGAN_TEST_DATA. */
char *
anogan_test_data_path (const char *name)
{
  const char *dir = g_getenv ("ANOGAN_TEST_DATA");
  g_assert_nonnull (dir);
  return g_build_filename (dir, name, NULL);
}

char *
anogan_test_source_path (const char *relative)
{
  const char *dir = g_getenv ("ANOGAN_SOURCE_ROOT");
  g_assert_nonnull (dir);
  return g_build_filename (dir, relative, NULL);
}

/* splitmix64: tiny, seedable, and the same on every platform. */
guint64
anogan_test_rng (guint64 seed)
{
  return seed * 0x9E3779B97F4A7C15ull + 1;
}

static guint64
next_u64 (guint64 *state)
{
  guint64 z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float
anogan_test_uniform (guint64 *rng, float lo, float hi)
{
  double u = (next_u64 (rng) >> 11) * (1.0 / 9007199254740992.0);
  return (float) (lo + (hi - lo) * u);
}

void
anogan_test_fill_uniform (float *x, gsize n, guint64 *rng, float lo, float hi)
{
  for (gsize i = 0; i < n; i++)
    x[i] = anogan_test_uniform (rng, lo, hi);
}

/* The largest difference relative to the reference's own scale: max|got -
 * want| / max|want|.  Elementwise relative error would punish values that
 * are near zero only by cancellation. */
double
anogan_test_max_scaled_error (const float *got, const float *want, gsize n)
{
  double diff = 0.0, scale = 0.0;
  for (gsize i = 0; i < n; i++) {
    if (!isfinite (got[i]))
      return INFINITY;
    diff = MAX (diff, fabs ((double) got[i] - want[i]));
    scale = MAX (scale, fabs ((double) want[i]));
  }
  return scale > 0.0 ? diff / scale : diff;
}

void
anogan_test_assert_close (const char *what, const float *got,
    const float *want, gsize n, double tolerance)
{
  double err = anogan_test_max_scaled_error (got, want, n);
  if (!(err <= tolerance))
    g_error ("%s: scaled error %.3g exceeds %.3g", what, err, tolerance);
  g_test_message ("%s: scaled error %.3g", what, err);
}
