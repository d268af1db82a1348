/* anogan-test-util.h: helpers shared by the test programs */
#pragma once

#include <glib.h>

#include "anogan-safetensors.h"

G_BEGIN_DECLS

char *anogan_test_data_path (const char *name);
char *anogan_test_source_path (const char *relative);
guint64 anogan_test_rng (guint64 seed);
float anogan_test_uniform (guint64 *rng, float lo, float hi);
void anogan_test_fill_uniform (float *x, gsize n, guint64 *rng, float lo,
    float hi);
double anogan_test_max_scaled_error (const float *got, const float *want,
    gsize n);
void anogan_test_assert_close (const char *what, const float *got,
    const float *want, gsize n, double tolerance);

/* A file of PyTorch's results in $ANOGAN_TEST_DATA, mapped. */
typedef struct {
  char *path;
  GMappedFile *file;
  AnoganSafetensors *st;
} AnoganTestGolden;

AnoganTestGolden *anogan_test_golden_open (const char *name);
void anogan_test_golden_free (AnoganTestGolden *golden);
const char *anogan_test_golden_metadata (AnoganTestGolden *golden,
    const char *key);
float *anogan_test_golden_get (AnoganTestGolden *golden, const char *name,
    gsize n);

G_END_DECLS
