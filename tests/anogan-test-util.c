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

/* Opens @name under $ANOGAN_TEST_DATA; every failure ends the test. */
AnoganTestGolden *
anogan_test_golden_open (const char *name)
{
  AnoganTestGolden *g = g_new0 (AnoganTestGolden, 1);
  GBytes *bytes;
  GError *error = NULL;

  g->path = anogan_test_data_path (name);
  g->file = g_mapped_file_new (g->path, FALSE, &error);
  g_assert_no_error (error);
  bytes = g_mapped_file_get_bytes (g->file);
  g->st = anogan_safetensors_parse (bytes, g->path, &error);
  g_assert_no_error (error);
  g_bytes_unref (bytes);
  return g;
}

void
anogan_test_golden_free (AnoganTestGolden *g)
{
  anogan_safetensors_free (g->st);
  g_mapped_file_unref (g->file);
  g_free (g->path);
  g_free (g);
}

const char *
anogan_test_golden_metadata (AnoganTestGolden *g, const char *key)
{
  const char *value = anogan_safetensors_metadata (g->st, key);

  if (value == NULL)
    g_error ("%s: no metadata %s", g->path, key);
  return value;
}

/* The first @n floats of tensor @name, in a new buffer. */
float *
anogan_test_golden_get (AnoganTestGolden *g, const char *name, gsize n)
{
  const AnoganTensorInfo *t = anogan_safetensors_lookup (g->st, name);
  float *out = g_new (float, n);

  if (t == NULL)
    g_error ("%s: no tensor %s", g->path, name);
  g_assert_true (anogan_tensor_read_f32 (t, out, n));
  return out;
}
