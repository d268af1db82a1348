/* replay.c: runs a fuzz target over files, without libFuzzer
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The seed corpus and every input a fuzzing run ever found to fail are
 * kept in tests/fuzz/corpus/; replaying them in every build (plain and
 * under the sanitizers) is the regression test of the fuzzed readers.
 * Arguments are files or directories of files.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

static int
replay_file (const char *path)
{
  g_autofree char *data = NULL;
  gsize size;

  if (!g_file_get_contents (path, &data, &size, NULL)) {
    fprintf (stderr, "replay: cannot read %s\n", path);
    return 0;
  }
  LLVMFuzzerTestOneInput ((const uint8_t *) data, size);
  return 1;
}

int
main (int argc, char **argv)
{
  int n = 0;

  for (int i = 1; i < argc; i++) {
    GDir *dir = g_dir_open (argv[i], 0, NULL);
    const char *name;

    if (dir == NULL) {
      n += replay_file (argv[i]);
      continue;
    }
    while ((name = g_dir_read_name (dir)) != NULL) {
      g_autofree char *path = g_build_filename (argv[i], name, NULL);

      n += replay_file (path);
    }
    g_dir_close (dir);
  }
  printf ("replayed %d inputs\n", n);
  return n > 0 ? 0 : 1;
}
