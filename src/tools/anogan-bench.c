/* anogan-bench: how fast the latent search runs, and how close to the BLAS
 *
 * Copyright (C) 2026 the gst-anogan authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A thin front end over libanogan: it builds a model, makes realistic
 * patches (G of random z plus noise), times anogan_search_run() and sets
 * the throughput beside what OpenBLAS's sgemm reaches on the same threads.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cblas.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "anogan-model.h"
#include "anogan-search.h"

#define EXIT_BAD_ARGUMENTS 2

/* Noise added to G(z) so that patches are not exactly reachable. */
#define PATCH_NOISE 0.1

/* With --iterations 0, a search lasts about this share of --seconds, so
 * that the timing takes several runs and their median means something. */
#define RUNS_PER_TIMING 8
#define AUTO_MIN_ITERATIONS 5
#define AUTO_MAX_ITERATIONS 500

/* What the command line asked for. */
typedef struct {
  char *arch;
  int batch;
  int threads;
  double seconds;
  int iterations;
  gint64 seed;
  int peak_size;
  double peak_seconds;
  gboolean no_peak;
  gboolean json;
} Arguments;

/* What was measured. */
typedef struct {
  const char *model_name;
  int nz;
  int batch;
  int threads;
  int patches;
  int iterations;
  int runs;
  double seconds;
  double median_run_seconds;
  double patch_iterations_per_second;   /* from the median run */
  double mean_patch_iterations_per_second;
  double g_forward_gflop;               /* GEMM GFLOP per patch */
  double d_forward_gflop;               /* GEMM GFLOP per patch, D[:K+1] */
  double gflop_per_patch_iteration;
  double gflops;
  double peak_gflops;                   /* 0 when not measured */
  double peak_percent;
  gsize workspace_bytes;
  gsize param_bytes;
  gsize peak_rss_bytes;
  double cpu_seconds;                   /* of the whole process */
  double mean_score;
} Results;

/* ---- command line ------------------------------------------------------- */

static const char description[] =
    "Times AnoGAN's latent search: for every patch, Adam steps on z that\n"
    "minimise (1-lambda)*sum|x - G(z)| + lambda*sum|f(x) - f(G(z))|, with\n"
    "f = D[:K+1].  Each step is a forward and a backward pass (to z) of G\n"
    "and of D[:K+1] over a batch of patches; each of --threads workers\n"
    "searches its own batch, so a run covers batch x threads patches.\n"
    "\n"
    "The model is a compiled-in architecture with random weights\n"
    "(dcgan32, dcgan64, ...) or a model file.  The patches are G of random\n"
    "z plus Gaussian noise (sigma 0.1), clamped to [-1, 1].\n"
    "\n"
    "Reported:\n"
    "  patch-iterations/s  patches x Adam steps / wall time of the median\n"
    "                      run (the mean over all runs is shown too)\n"
    "  GFLOPS              multiply-adds (x2) of the Linear and convolution\n"
    "                      GEMMs: per step and patch, G and D[:K+1] forward\n"
    "                      plus the same again backward to the input; per\n"
    "                      run, also f(x) once and the final evaluation\n"
    "  sgemm peak          threads x single-threaded cblas_sgemm on square\n"
    "                      matrices, in the same process, after the search;\n"
    "                      the best of three rounds\n"
    "  peak RSS            VmHWM of the process before the sgemm peak runs\n"
    "\n"
    "Examples:\n"
    "  anogan-bench --arch dcgan64 --batch 16 --threads 2 --seconds 5\n"
    "  anogan-bench --arch model.safetensors --iterations 50 --json\n"
    "\n"
    "Exit status: 0 on success, 1 when the model cannot be built or the\n"
    "search fails, 2 on bad arguments.";

static gboolean
parse_arguments (Arguments *args, int *argc, char ***argv, GError **error)
{
  const GOptionEntry entries[] = {
    { "arch", 'a', 0, G_OPTION_ARG_FILENAME, &args->arch,
      "Compiled-in architecture (random weights) or a model file "
      "(default: dcgan32)", "NAME|FILE" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &args->batch,
      "Patches per forward and backward pass (default: 8)", "B" },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &args->threads,
      "Worker threads (default: one per core)", "T" },
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &args->seconds,
      "How long to time the search, after a warm-up (default: 4)", "S" },
    { "iterations", 'n', 0, G_OPTION_ARG_INT, &args->iterations,
      "Adam steps per search; 0 picks a count that makes a run last about "
      "an eighth of --seconds (default: 0)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &args->seed,
      "Seed of weights, patches and starting points (default: 0)", "S" },
    { "peak-size", 0, 0, G_OPTION_ARG_INT, &args->peak_size,
      "Matrix size of the sgemm peak measurement (default: 1024)", "N" },
    { "peak-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &args->peak_seconds,
      "How long to measure the sgemm peak, in three rounds of which the "
      "best counts (default: 1.5)", "S" },
    { "no-peak", 0, 0, G_OPTION_ARG_NONE, &args->no_peak,
      "Do not measure the sgemm peak", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &args->json,
      "Print one JSON object instead of a table", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
      g_option_context_new ("- benchmark AnoGAN's latent search");

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context, description);
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;

  if (*argc > 1)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
        "unexpected argument '%s'", (*argv)[1]);
  else if (args->batch < 1 || args->batch > 4096)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--batch must be between 1 and 4096, not %d", args->batch);
  else if (args->threads < 1 || args->threads > 1024)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--threads must be between 1 and 1024, not %d", args->threads);
  else if (!(args->seconds > 0.0 && args->seconds <= 86400.0))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--seconds must be a positive number of at most 86400");
  else if (args->iterations < 0 || args->iterations > 1000000)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--iterations must be between 0 and 1000000, not %d",
        args->iterations);
  else if (args->peak_size < 64 || args->peak_size > 8192)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--peak-size must be between 64 and 8192, not %d", args->peak_size);
  else if (!(args->peak_seconds > 0.0 && args->peak_seconds <= 3600.0))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--peak-seconds must be a positive number of at most 3600");
  else
    return TRUE;
  return FALSE;
}

/* ---- the model and its patches ------------------------------------------ */

static gboolean
is_compiled_in_arch (const char *name)
{
  g_auto (GStrv) archs = anogan_model_list_archs ();

  return archs && g_strv_contains ((const char *const *) archs, name);
}

static AnoganModel *
build_model (const Arguments *args, GError **error)
{
  AnoganModel *model;

  if (!is_compiled_in_arch (args->arch)
      && !g_file_test (args->arch, G_FILE_TEST_EXISTS)) {
    g_auto (GStrv) archs = anogan_model_list_archs ();
    g_autofree char *known = g_strjoinv (", ", archs);

    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--arch %s: neither a compiled-in architecture (%s) nor a file",
        args->arch, known);
    return NULL;
  }
  if (!is_compiled_in_arch (args->arch))
    return anogan_model_load (args->arch, error);

  model = anogan_model_new_from_arch (args->arch, error);
  if (model)
    anogan_model_init_weights (model, (guint64) args->seed);
  return model;
}

/* Standard normal samples from a seeded generator of our own, so that the
 * patches do not depend on the C library. */
static guint64
next_random (guint64 *state)
{
  guint64 z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double
normal_random (guint64 *state)
{
  double u1 = ((next_random (state) >> 11) + 0.5) / 9007199254740992.0;
  double u2 = ((next_random (state) >> 11) + 0.5) / 9007199254740992.0;

  return sqrt (-2.0 * log (u1)) * cos (2.0 * G_PI * u2);
}

/* Patches the generator could almost have made: G(z) for random z, plus
 * noise, clamped to G's range.  NCHW, as the search takes them. */
static float *
make_patches (const AnoganModel *model, int n, guint64 seed)
{
  const AnoganNet *g = &model->generator;
  const gsize n_pixels = anogan_shape_numel (&model->input);
  const int channels = model->input.dims[0];
  guint64 state = seed ^ 0x5DEECE66Dull;
  AnoganNetWorkspace *ws;
  float *z, *patches;
  const float *gz;

  /* z is a feature batch [nz][n]: its order does not matter for noise. */
  z = g_new (float, (gsize) model->nz * n);
  for (gsize i = 0; i < (gsize) model->nz * n; i++)
    z[i] = (float) normal_random (&state);

  ws = anogan_net_workspace_new (g, g->n_layers, n, ANOGAN_NET_INFERENCE);
  gz = anogan_net_forward (g, ws, n, z);
  patches = g_new (float, n_pixels * n);
  anogan_cnhw_to_nchw (gz, patches, n, channels, n_pixels / channels);
  for (gsize i = 0; i < n_pixels * n; i++) {
    double v = patches[i] + PATCH_NOISE * normal_random (&state);
    patches[i] = (float) CLAMP (v, -1.0, 1.0);
  }
  anogan_net_workspace_free (ws);
  g_free (z);
  return patches;
}

/* ---- counting ----------------------------------------------------------- */

static gboolean
is_gemm_layer (const AnoganLayer *layer)
{
  return layer->kind == ANOGAN_LAYER_LINEAR
      || layer->kind == ANOGAN_LAYER_CONV2D
      || layer->kind == ANOGAN_LAYER_CONV_TRANSPOSE2D;
}

/* FLOPs of one sample's forward pass through the GEMM layers among the
 * first @n_layers: the elementwise layers are memory-bound and would only
 * flatter the ratio to the sgemm peak. */
static double
gemm_flops (const AnoganNet *net, int n_layers)
{
  double flops = 0.0;

  for (int i = 0; i < n_layers; i++)
    if (is_gemm_layer (&net->layers[i]))
      flops += anogan_layer_flops (&net->layers[i]);
  return flops;
}

/* Peak resident set size so far: VmHWM, or ru_maxrss where /proc is
 * missing. */
static gsize
peak_rss_bytes (void)
{
  g_autofree char *status = NULL;
  struct rusage usage;
  const char *line;

  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL)
      && (line = strstr (status, "VmHWM:")) != NULL)
    return (gsize) g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10)
        * 1024;
  if (getrusage (RUSAGE_SELF, &usage) == 0)
    return (gsize) usage.ru_maxrss * 1024;
  return 0;
}

/* User and system CPU time of the process so far: beside the wall time
 * it shows whether other work took the cores from the benchmark. */
static double
cpu_seconds (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return 0.0;
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec
      + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  guint n = values->len;

  g_array_sort (values, compare_doubles);
  if (n % 2)
    return g_array_index (values, double, n / 2);
  return 0.5 * (g_array_index (values, double, n / 2 - 1)
      + g_array_index (values, double, n / 2));
}

/* ---- the search --------------------------------------------------------- */

static AnoganSearch *
new_search (const AnoganModel *model, const Arguments *args, int iterations,
    GError **error)
{
  AnoganSearchOptions options;

  anogan_search_options_init (&options);
  options.iterations = iterations;
  options.batch = args->batch;
  options.threads = args->threads;
  options.z_init = ANOGAN_Z_NORMAL;
  options.seed = (guint64) args->seed;
  return anogan_search_new (model, &options, error);
}

/* One search of every patch; returns its wall time in seconds, or a
 * negative number on failure. */
static double
time_one_run (AnoganSearch *search, int n_patches, const float *patches,
    AnoganSearchOutputs *out, GError **error)
{
  gint64 start = g_get_monotonic_time ();

  if (!anogan_search_run (search, n_patches, patches, NULL, out, error))
    return -1.0;
  return (g_get_monotonic_time () - start) / 1e6;
}

/* A short search, which also warms caches and pages up, tells how long a
 * step takes; --iterations 0 then makes each run last seconds/RUNS_PER_TIMING. */
static int
choose_iterations (const AnoganModel *model, const Arguments *args,
    int n_patches, const float *patches, AnoganSearchOutputs *out,
    GError **error)
{
  const int probe_steps = 2;
  g_autoptr (AnoganSearch) probe = NULL;
  double t, per_step;

  probe = new_search (model, args, probe_steps, error);
  if (!probe || time_one_run (probe, n_patches, patches, out, error) < 0.0)
    return -1;
  if ((t = time_one_run (probe, n_patches, patches, out, error)) < 0.0)
    return -1;
  if (args->iterations > 0)
    return args->iterations;

  /* The final evaluation and f(x) cost about one more step. */
  per_step = t / (probe_steps + 1);
  return (int) CLAMP (round (args->seconds / RUNS_PER_TIMING / per_step),
      AUTO_MIN_ITERATIONS, AUTO_MAX_ITERATIONS);
}

static gboolean
time_search (const AnoganModel *model, const Arguments *args, Results *r,
    GError **error)
{
  const int n_patches = args->batch * args->threads;
  g_autoptr (AnoganSearch) search = NULL;
  g_autoptr (GArray) run_times = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree float *patches = NULL;
  g_autofree AnoganPatchResult *results = NULL;
  AnoganSearchOutputs out = { 0 };
  const int d_layers = model->feature_layer + 1;
  double total = 0.0, score_sum = 0.0, flop_per_run;
  int iterations;

  patches = make_patches (model, n_patches, (guint64) args->seed);
  results = g_new0 (AnoganPatchResult, n_patches);
  out.results = results;

  iterations = choose_iterations (model, args, n_patches, patches, &out,
      error);
  if (iterations < 0)
    return FALSE;
  search = new_search (model, args, iterations, error);
  if (!search)
    return FALSE;

  do {
    double t = time_one_run (search, n_patches, patches, &out, error);

    if (t < 0.0)
      return FALSE;
    g_array_append_val (run_times, t);
    total += t;
  } while (total < args->seconds);

  for (int i = 0; i < n_patches; i++)
    score_sum += results[i].score;

  r->model_name = model->name;
  r->nz = model->nz;
  r->batch = args->batch;
  r->threads = args->threads;
  r->patches = n_patches;
  r->iterations = iterations;
  r->runs = run_times->len;
  r->seconds = total;
  r->median_run_seconds = median (run_times);
  r->patch_iterations_per_second =
      (double) n_patches * iterations / r->median_run_seconds;
  r->mean_patch_iterations_per_second =
      (double) n_patches * iterations * r->runs / total;
  r->g_forward_gflop = gemm_flops (&model->generator,
      model->generator.n_layers) / 1e9;
  r->d_forward_gflop = gemm_flops (&model->discriminator, d_layers) / 1e9;
  /* Backward to the input of a GEMM layer is one GEMM of the same size. */
  r->gflop_per_patch_iteration = 2.0 * (r->g_forward_gflop
      + r->d_forward_gflop);
  /* Per patch and run: the steps, f(x) once, and the final G and D[:K+1]
   * forward that gives the score. */
  flop_per_run = n_patches * (iterations * r->gflop_per_patch_iteration
      + r->g_forward_gflop + 2.0 * r->d_forward_gflop);
  r->gflops = flop_per_run / r->median_run_seconds;
  r->workspace_bytes = anogan_search_workspace_bytes (search);
  r->param_bytes = anogan_model_param_floats (model) * sizeof (float);
  r->mean_score = score_sum / n_patches;
  return TRUE;
}

/* ---- the sgemm peak ----------------------------------------------------- */

typedef struct {
  int size;
  double seconds;
  double gflops;
} PeakJob;

/* One thread's single-threaded sgemm rate on size x size matrices. */
static gpointer
measure_sgemm (gpointer data)
{
  PeakJob *job = data;
  const int n = job->size;
  const gsize floats = (gsize) n * n;
  float *a = g_new (float, 3 * floats), *b = a + floats, *c = b + floats;
  gint64 start, now;
  int calls = 0;

  for (gsize i = 0; i < floats; i++) {
    a[i] = (float) ((i * 7919) % 1000) / 1000.0f - 0.5f;
    b[i] = (float) ((i * 104729) % 1000) / 1000.0f - 0.5f;
  }
  /* The first call packs into fresh buffers and faults pages in. */
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n,
      b, n, 0.0f, c, n);
  start = g_get_monotonic_time ();
  do {
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a,
        n, b, n, 0.0f, c, n);
    calls++;
    now = g_get_monotonic_time ();
  } while (now - start < job->seconds * 1e6);

  job->gflops = 2.0 * n * n * (double) n * calls / ((now - start) * 1e3);
  g_free (a);
  return NULL;
}

/* What @threads threads reach together, each calling single-threaded
 * sgemm, as the search's workers do.  Other work on the machine only ever
 * lowers the figure, so the best of a few short rounds is kept. */
static double
measure_sgemm_peak (int threads, int size, double seconds)
{
  const int rounds = 3;
  g_autofree PeakJob *jobs = g_new0 (PeakJob, threads);
  g_autofree GThread **workers = g_new0 (GThread *, threads);
  double best = 0.0;

  openblas_set_num_threads (1);
  for (int r = 0; r < rounds; r++) {
    double total = 0.0;

    for (int i = 0; i < threads; i++) {
      jobs[i].size = size;
      jobs[i].seconds = seconds / rounds;
      workers[i] = g_thread_new ("sgemm-peak", measure_sgemm, &jobs[i]);
    }
    for (int i = 0; i < threads; i++) {
      g_thread_join (workers[i]);
      total += jobs[i].gflops;
    }
    best = MAX (best, total);
  }
  return best;
}

/* ---- output ------------------------------------------------------------- */

static const char *
getenv_or_null (const char *name)
{
  const char *value = g_getenv (name);

  return value && *value ? value : NULL;
}

static void
print_table (const Arguments *args, const Results *r)
{
  const char *coretype = getenv_or_null ("OPENBLAS_CORETYPE");
  const char *l2 = getenv_or_null ("OPENBLAS_L2_SIZE");

  g_print ("model                      %s (nz %d)\n", r->model_name, r->nz);
  g_print ("batch x threads            %d x %d = %d patches per run\n",
      r->batch, r->threads, r->patches);
  g_print ("Adam steps per run         %d\n", r->iterations);
  g_print ("runs timed                 %d in %.2f s (median %.3f s)\n",
      r->runs, r->seconds, r->median_run_seconds);
  g_print ("patch-iterations/s         %.1f (mean over runs %.1f)\n",
      r->patch_iterations_per_second, r->mean_patch_iterations_per_second);
  g_print ("GEMM GFLOP per patch       G %.4f + D[:K+1] %.4f forward, "
      "x2 with backward = %.4f per step\n",
      r->g_forward_gflop, r->d_forward_gflop, r->gflop_per_patch_iteration);
  g_print ("achieved                   %.1f GFLOPS\n", r->gflops);
  if (r->peak_gflops > 0.0) {
    g_print ("sgemm peak                 %.1f GFLOPS (%d threads, n=%d)\n",
        r->peak_gflops, r->threads, args->peak_size);
    g_print ("achieved / peak            %.1f %%\n", r->peak_percent);
  }
  g_print ("search workspace           %.2f MiB\n",
      r->workspace_bytes / 1048576.0);
  g_print ("model parameters           %.2f MiB\n",
      r->param_bytes / 1048576.0);
  g_print ("peak RSS                   %.1f MiB\n",
      r->peak_rss_bytes / 1048576.0);
  g_print ("mean score                 %.4g\n", r->mean_score);
  g_print ("OpenBLAS                   %s\n", openblas_get_config ());
  if (coretype || l2)
    g_print ("environment                OPENBLAS_CORETYPE=%s "
        "OPENBLAS_L2_SIZE=%s\n", coretype ? coretype : "",
        l2 ? l2 : "");
}

static void
add_env (JsonBuilder *b, const char *name)
{
  const char *value = getenv_or_null (name);

  json_builder_set_member_name (b, name);
  if (value)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
print_json (const Arguments *args, const Results *r)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;

#define MEMBER(kind, name, value) \
  G_STMT_START { \
    json_builder_set_member_name (b, name); \
    json_builder_add_##kind##_value (b, value); \
  } G_STMT_END

  json_builder_begin_object (b);
  MEMBER (string, "engine", "anogan");
  MEMBER (string, "arch", r->model_name);
  MEMBER (int, "batch", r->batch);
  MEMBER (int, "threads", r->threads);
  MEMBER (int, "patches", r->patches);
  MEMBER (int, "iterations", r->iterations);
  MEMBER (int, "runs", r->runs);
  MEMBER (double, "seconds", r->seconds);
  MEMBER (double, "median_run_seconds", r->median_run_seconds);
  MEMBER (double, "patch_iterations_per_second",
      r->patch_iterations_per_second);
  MEMBER (double, "mean_patch_iterations_per_second",
      r->mean_patch_iterations_per_second);
  MEMBER (double, "g_forward_gflop", r->g_forward_gflop);
  MEMBER (double, "d_forward_gflop", r->d_forward_gflop);
  MEMBER (double, "gflop_per_patch_iteration", r->gflop_per_patch_iteration);
  MEMBER (double, "gflops", r->gflops);
  json_builder_set_member_name (b, "sgemm_peak_gflops");
  if (r->peak_gflops > 0.0)
    json_builder_add_double_value (b, r->peak_gflops);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "peak_percent");
  if (r->peak_gflops > 0.0)
    json_builder_add_double_value (b, r->peak_percent);
  else
    json_builder_add_null_value (b);
  MEMBER (int, "sgemm_peak_size", args->peak_size);
  MEMBER (int, "workspace_bytes", r->workspace_bytes);
  MEMBER (int, "param_bytes", r->param_bytes);
  MEMBER (int, "peak_rss_bytes", r->peak_rss_bytes);
  MEMBER (double, "cpu_seconds", r->cpu_seconds);
  MEMBER (double, "mean_score", r->mean_score);
  MEMBER (string, "openblas_config", openblas_get_config ());
  MEMBER (string, "openblas_core", openblas_get_corename ());
  add_env (b, "OPENBLAS_CORETYPE");
  add_env (b, "OPENBLAS_L2_SIZE");
  json_builder_end_object (b);
#undef MEMBER

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

/* ---- main --------------------------------------------------------------- */

int
main (int argc, char **argv)
{
  Arguments args = {
    .batch = 8,
    .threads = (int) g_get_num_processors (),
    .seconds = 4.0,
    .peak_size = 1024,
    .peak_seconds = 1.5,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (AnoganModel) model = NULL;
  Results results = { 0 };

  if (!parse_arguments (&args, &argc, &argv, &error)) {
    g_printerr ("anogan-bench: %s\nTry 'anogan-bench --help'.\n",
        error->message);
    return EXIT_BAD_ARGUMENTS;
  }
  if (!args.arch)
    args.arch = g_strdup ("dcgan32");

  model = build_model (&args, &error);
  if (!model) {
    gboolean bad_argument = g_error_matches (error, G_OPTION_ERROR,
        G_OPTION_ERROR_BAD_VALUE);

    g_printerr ("anogan-bench: %s\n", error->message);
    g_free (args.arch);
    return bad_argument ? EXIT_BAD_ARGUMENTS : EXIT_FAILURE;
  }

  if (!time_search (model, &args, &results, &error)) {
    g_printerr ("anogan-bench: %s: %s\n", args.arch, error->message);
    g_free (args.arch);
    return EXIT_FAILURE;
  }
  /* Before the sgemm peak allocates its matrices. */
  results.peak_rss_bytes = peak_rss_bytes ();

  if (!args.no_peak) {
    results.peak_gflops = measure_sgemm_peak (args.threads, args.peak_size,
        args.peak_seconds);
    results.peak_percent = 100.0 * results.gflops / results.peak_gflops;
  }

  results.cpu_seconds = cpu_seconds ();
  if (args.json)
    print_json (&args, &results);
  else
    print_table (&args, &results);
  g_free (args.arch);
  return EXIT_SUCCESS;
}
