#!/bin/sh
# Tests of the anogan-eval tool, in TAP.  meson passes the tool's path as
# $1, anogan-score's as $2 and add-encoder's (tests/add-encoder.c) as $3.  The pictures are tests/data/eval (made by
# tests/data/make-eval-set.py): six normal and six anomalous 32x32 patches
# and the defect masks of the anomalous ones.  The model is
# $ANOGAN_TEST_DATA/dcgan32/model.safetensors.  Only the tools, shell
# utilities, python3's standard library (to parse JSON and recompute the
# metrics) and xmllint are used; a point whose helper is missing is skipped.
set -u

tool=$1
score_tool=$2
add_encoder=$3
data=${ANOGAN_SOURCE_ROOT:?}/tests/data/eval
model=${ANOGAN_TEST_DATA:?}/dcgan32/model.safetensors
. "$(dirname "$0")/tap.sh"

if command -v python3 >/dev/null; then have_python=true; else have_python=false; fi

# py_test DESCRIPTION SCRIPT ARGS...: a test point passing if the Python
# SCRIPT does, skipped without python3.
py_test () {
  desc=$1; script=$2; shift 2
  if ! $have_python; then
    skip "$desc (no python3)"
  elif python3 -c "$script" "$@" 2>"$tmp/py-err"; then
    ok "$desc"
  else
    diag "$tmp/py-err"
    not_ok "$desc"
  fi
}

# ---- without a model ------------------------------------------------------

run 0 --help && grep -q -- '--anomalous' "$tmp/out" && grep -q -- '--masks' "$tmp/out" &&
  grep -q -- '--mosaic' "$tmp/out" && grep -q -- '--stride' "$tmp/out" &&
  grep -q 'Exit status' "$tmp/out"
check "--help describes the options and exit status" [ $? -eq 0 ]

sets="--normal $data/normal --anomalous $data/anomalous"
bad_args "unknown option" --bogus --model "$model" $sets
bad_args "no --model" $sets
bad_args "no --normal" --model "$model" --anomalous "$data/anomalous"
bad_args "no --anomalous" --model "$model" --normal "$data/normal"
bad_args "a stray argument" --model "$model" $sets extra.png
bad_args "--class -3" --model "$model" $sets --class -3
bad_args "--limit -1" --model "$model" $sets --limit -1
bad_args "--loss l3" --model "$model" $sets --loss l3
bad_args "--iterations ten" --model "$model" $sets --iterations ten
bad_args "--lambda 2" --model "$model" $sets --lambda 2
bad_args "--stride 0" --model "$model" $sets --stride 0
bad_args "--mode sideways" --model "$model" $sets --mode sideways
bad_args "--trace-steps past --iterations" --model "$model" $sets --iterations 5 \
  --trace-steps 0,6
bad_args "--trace-steps past hybrid's 10 iterations" --model "$model" $sets \
  --mode hybrid --trace-steps 11
bad_args "--trace-steps 1,x" --model "$model" $sets --trace-steps 1,x
bad_args "--trace-steps -1" --model "$model" $sets --trace-steps -1

run 1 --model "$tmp/no-such-model.safetensors" $sets &&
  [ "$(lines "$tmp/err")" -eq 1 ] && grep -q 'no-such-model.safetensors' "$tmp/err"
check "a missing model: exit 1, one line naming it" [ $? -eq 0 ]

# ---- with the model -------------------------------------------------------

if [ ! -f "$model" ]; then
  skip "no model at $model (run tests/golden/make-golden.py)"
  echo "1..$n"
  exit $((failures > 0))
fi

eval_run () {
  want_status=$1; shift
  run "$want_status" --model "$model" --iterations 3 --threads 1 "$@"
}

bad_args "--stride 33, larger than the tile" --model "$model" $sets --stride 33

eval_run 1 --normal "$tmp/nowhere" --anomalous "$data/anomalous" &&
  [ "$(lines "$tmp/err")" -eq 1 ] && grep -q 'nowhere' "$tmp/err"
check "an unreadable source: exit 1, one line naming it" [ $? -eq 0 ]
diag "$tmp/err"

bad_args "--class on a directory of pictures" --model "$model" $sets --class 1

mkdir "$tmp/few-masks"
cp "$data/masks/blob-a.png" "$tmp/few-masks/"
eval_run 1 $sets --masks "$tmp/few-masks" &&
  [ "$(lines "$tmp/err")" -eq 1 ] && grep -q 'blob-b.png' "$tmp/err"
check "a missing mask: exit 1, one line naming it" [ $? -eq 0 ]
diag "$tmp/err"

mkdir "$tmp/wrong-masks"
cp "$data/masks/"*.png "$tmp/wrong-masks/"
cp "$ANOGAN_SOURCE_ROOT/tests/data/grey-48x40.png" "$tmp/wrong-masks/spot-a.png"
eval_run 1 $sets --masks "$tmp/wrong-masks" &&
  [ "$(lines "$tmp/err")" -eq 1 ] && grep -q 'spot-a.png.*48x40' "$tmp/err"
check "a mask of the wrong size: exit 1, one line saying so" [ $? -eq 0 ]
diag "$tmp/err"

# The full run: every output at once.
eval_run 0 $sets --masks "$data/masks" --json --scores "$tmp/scores.jsonl" \
  --roc "$tmp/roc.svg" --mosaic "$tmp/mosaic.png" &&
  [ "$(lines "$tmp/out")" -eq 1 ] && [ ! -s "$tmp/err" ]
check "a full run prints one JSON line and nothing on stderr" [ $? -eq 0 ]
cp "$tmp/out" "$tmp/report.json"
diag "$tmp/report.json"

py_test "--json: every field, rates and metrics in [0, 1], counts" '
import json, math, sys
r = json.load(open(sys.argv[1]))
for key in ("auroc", "average_precision", "best_f1", "best_f1_precision",
            "best_f1_recall", "pixel_auroc"):
    assert isinstance(r[key], float) and 0.0 <= r[key] <= 1.0, (key, r[key])
assert r["n_normal"] == 6 and r["n_anomalous"] == 6, r
assert r["iterations"] == 3 and r["tiles"] == 12, r
assert r["patch_iterations"] == 36, r
assert abs(r["lambda"] - 0.1) < 1e-9 and r["loss"] == "l1", r
assert r["model_name"] == "dcgan32" and r["class"] is None, r
assert r["mode"] == "optimise" and r["candidates"] == 0, r
assert "trace" not in r, r
for key in ("threshold", "threshold_f1", "threshold_precision",
            "threshold_recall"):
    assert r[key] is None, (key, r[key])
assert math.isfinite(r["best_f1_threshold"]), r
for key in ("seconds", "pictures_per_second", "patch_iterations_per_second",
            "ms_per_picture", "ms_per_tile"):
    assert r[key] > 0, (key, r[key])
# 12 pictures of one tile each.
for key in ("ms_per_picture", "ms_per_tile"):
    assert abs(r[key] - 1000 * r["seconds"] / 12) <= 1e-9 * r[key], (key, r)
assert r["threads"] == 1, r
' "$tmp/report.json"

# Brute force from the --scores file: Mann-Whitney over all pairs, AP and
# F1 threshold by threshold.
recompute='
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
r = json.load(open(sys.argv[2]))
pos = [d["score"] for d in rows if d["label"] == "anomalous"]
neg = [d["score"] for d in rows if d["label"] == "normal"]
u = sum(1.0 if p > q else 0.5 if p == q else 0.0 for p in pos for q in neg)
assert abs(r["auroc"] - u / (len(pos) * len(neg))) < 1e-12, r["auroc"]
ap, previous, best = 0.0, 0.0, (-1.0, None)
for t in sorted(set(pos + neg), reverse=True):
    tp = sum(p >= t for p in pos)
    fp = sum(q >= t for q in neg)
    recall = tp / len(pos)
    ap += (recall - previous) * tp / (tp + fp)
    previous = recall
    f1 = 2 * tp / (2 * tp + fp + len(pos) - tp)
    if f1 > best[0]:
        best = (f1, t)
assert abs(r["average_precision"] - ap) < 1e-12, (r["average_precision"], ap)
assert abs(r["best_f1"] - best[0]) < 1e-12, (r["best_f1"], best)
assert r["best_f1_threshold"] == best[1], (r["best_f1_threshold"], best)
t = r.get("threshold")
if t is not None:
    tp = sum(p >= t for p in pos)
    fp = sum(q >= t for q in neg)
    assert abs(r["threshold_recall"] - tp / len(pos)) < 1e-12, r
    assert abs(r["threshold_f1"] - 2 * tp / (tp + fp + len(pos))) < 1e-12, r
    if tp + fp:
        assert abs(r["threshold_precision"] - tp / (tp + fp)) < 1e-12, r
'
py_test "--scores: one line per picture, names and labels right" '
import json, os, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
assert len(rows) == 12, len(rows)
names = {os.path.basename(d["name"]): d["label"] for d in rows}
assert len(names) == 12, names
assert all(names["normal-%d.png" % i] == "normal" for i in range(6)), names
for name in ("scratch-a", "scratch-b", "spot-a", "spot-b", "blob-a", "blob-b"):
    assert names[name + ".png"] == "anomalous", names
for d in rows:
    assert d["iterations"] == 3 and d["tiles"] == 1, d
    want = 0.9 * d["residual"] + 0.1 * d["discrimination"]
    assert abs(d["score"] - want) <= 1e-4 * want, d
' "$tmp/scores.jsonl"
py_test "AUROC, AP and best F1 agree with a brute-force recomputation" \
  "$recompute" "$tmp/scores.jsonl" "$tmp/report.json"

# The same scores as anogan-score gives the same pictures.
"$score_tool" --model "$model" --iterations 3 --threads 1 --json \
  "$data/normal/"*.png "$data/anomalous/"*.png >"$tmp/score.out" 2>&1
py_test "scores equal anogan-score's for the same options" '
import json, os, sys
mine = {os.path.basename(d["name"]): d["score"]
        for d in map(json.loads, open(sys.argv[1]))}
theirs = {os.path.basename(d["file"]): d["score"]
          for d in map(json.loads, open(sys.argv[2]))}
assert mine == theirs, (mine, theirs)
' "$tmp/scores.jsonl" "$tmp/score.out"

if command -v xmllint >/dev/null; then
  auroc=$(sed -n 's/.*"auroc":\([0-9.e-]*\).*/\1/p' "$tmp/report.json")
  want=$(printf 'AUROC %.4f' "$auroc")
  xmllint --noout "$tmp/roc.svg" && grep -q "$want" "$tmp/roc.svg" &&
    grep -q 'False positive rate' "$tmp/roc.svg" && grep -q 'dcgan32' "$tmp/roc.svg" &&
    grep -q 'stroke-dasharray' "$tmp/roc.svg"
  check "--roc: well-formed SVG with the axes, the diagonal, the title and \"$want\"" [ $? -eq 0 ]
else
  skip "--roc: well-formed SVG (no xmllint; Debian's libxml2-utils)"
fi

# Four rows of three cells (six pictures a set, split between its top and
# bottom rows); 32x32 pictures enlarged 3x to 96x96.  A cell is the picture
# and its map, 2 * 96 + 2 = 194 wide; with 8-pixel margins and 6-pixel
# separators the width is 16 + 3 * 194 + 2 * 6 = 610.  A row is a 10-pixel
# title, 4 pixels, the 96-pixel pictures, 2, a 10-pixel score, and a
# 6-pixel separator: 128; with the colour scale and margins the height is
# 8 + 4 * 128 + 10 + 8 = 538.
size=$(png_size "$tmp/mosaic.png")
[ "$size" = "610 538" ] &&
  grep -q '"mosaic_width":610,"mosaic_height":538' "$tmp/report.json"
check "--mosaic: a PNG of the size reported, 3x enlarged cells ($size)" [ $? -eq 0 ]

eval_run 0 $sets --masks "$data/masks" &&
  grep -q '^search: optimise mode, 3 iterations, ' "$tmp/out" &&
  grep -q '^AUROC: [01]\.[0-9]*$' "$tmp/out" && grep -q '^average precision: ' "$tmp/out" &&
  grep -q '^best F1: .* at threshold ' "$tmp/out" &&
  grep -q '^model threshold: none$' "$tmp/out" && grep -q '^pixel AUROC: ' "$tmp/out" &&
  grep -q '^time: .* pictures/s (.* ms a picture, .* ms a tile), .* patch-iterations/s' "$tmp/out"
check "text report: AUROC, AP, F1, threshold, pixel AUROC, speed" [ $? -eq 0 ]
diag "$tmp/out"

# A model with a calibrated threshold: the metrics at it, checked by
# brute force too.  590 lies among the anomalous scores of this set at 3
# iterations (582 to 600; the normal ones are 568 to 580).
if $have_python; then
  python3 - "$model" "$tmp/threshold.safetensors" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
old = b'\\"threshold\\": null'
assert data.count(old) == 1
# Same length, so the header's size and the offsets stay right.
open(sys.argv[2], "wb").write(data.replace(old, b'\\"threshold\\": 590 '))
EOF
  "$tool" --model "$tmp/threshold.safetensors" --iterations 3 --threads 1 $sets \
    --json --scores "$tmp/t-scores.jsonl" >"$tmp/t-report.json" 2>"$tmp/err"
  py_test "a model's threshold: F1, precision and recall at it" '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["threshold"] == 590.0, r
for key in ("threshold_f1", "threshold_recall"):
    assert 0.0 <= r[key] <= 1.0, (key, r)
' "$tmp/t-report.json"
  py_test "... and they agree with a brute-force recomputation" \
    "$recompute" "$tmp/t-scores.jsonl" "$tmp/t-report.json"
else
  skip "a model's threshold (no python3 to make the model)"
fi

# A picture smaller than one tile is not padded but refused: tests/data
# holds a 20x20 one beside pictures that would score.
eval_run 1 --normal "$data/normal" --anomalous "$ANOGAN_SOURCE_ROOT/tests/data" &&
  [ "$(lines "$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ] &&
  grep -q 'tiny-20x20.png: .*20x20.*32x32 tile' "$tmp/err"
check "a picture smaller than a tile: exit 1, one line naming it and both sizes" [ $? -eq 0 ]
diag "$tmp/err"

# Every other picture of tests/data as "anomalous": grey, colour, RGBA,
# JPEG, several tiles each; a set whose scores overlap the normal ones, so
# that the recomputation is not of a perfect separation.
mkdir "$tmp/mixed"
for f in "$ANOGAN_SOURCE_ROOT/tests/data/"*; do
  case $f in *.png|*.jpg) [ "${f##*/}" = tiny-20x20.png ] || cp "$f" "$tmp/mixed/" ;; esac
done
eval_run 0 --normal "$data/normal" --anomalous "$tmp/mixed" \
  --scores "$tmp/m-scores.jsonl" --json
check "pictures of every kind and size are scored" [ $? -eq 0 ]
cp "$tmp/out" "$tmp/m-report.json"
diag "$tmp/m-report.json"
py_test "overlapping sets: the metrics agree with a brute-force recomputation" \
  "$recompute" "$tmp/m-scores.jsonl" "$tmp/m-report.json"
py_test "overlapping sets: tiles per picture as the tiling gives them" '
import json, os, sys
tiles = {os.path.basename(d["name"]): d["tiles"]
         for d in map(json.loads, open(sys.argv[1]))}
# 48x40: 2x2 tiles; 80x50: 3x2; 40x36: 2x2; 33x32: 2x1.
want = {"grey-48x40.png": 4, "scratch-48x40.png": 4, "colour-80x50.png": 6,
        "photo-40x36.jpg": 4, "alpha-33x32.png": 2}
assert {k: v for k, v in tiles.items() if k in want} == want, tiles
assert "tiny-20x20.png" not in tiles, tiles
r = json.load(open(sys.argv[2]))
assert r["n_anomalous"] == 5 and 0.0 < r["auroc"] < 1.0, r
' "$tmp/m-scores.jsonl" "$tmp/m-report.json"

# --limit: a seeded choice, the same for the same seed.
eval_run 0 $sets --limit 2 --seed 7 --scores "$tmp/l1.jsonl" --json &&
  cp "$tmp/out" "$tmp/limit.json" &&
  eval_run 0 $sets --limit 2 --seed 7 --scores "$tmp/l2.jsonl" &&
  [ "$(lines "$tmp/l1.jsonl")" -eq 4 ] && cmp -s "$tmp/l1.jsonl" "$tmp/l2.jsonl" &&
  grep -q '"n_normal":2,"n_anomalous":2' "$tmp/limit.json"
check "--limit 2: two pictures a set, the same ones for the same seed" [ $? -eq 0 ]

# --class on a tiny labelled IDX file: four 28x28 records of labels 0, 1,
# 0, 2, padded to 32x32.  Class 0 is normal: records 0 and 2; records 1
# and 3 are anomalous.
{
  printf '\000\000\010\003\000\000\000\004\000\000\000\034\000\000\000\034'
  for v in '\100' '\200' '\140' '\300'; do
    head -c 784 /dev/zero | tr '\000' "$v"
  done
} >"$tmp/tiny-images-idx3-ubyte"
printf '\000\000\010\001\000\000\000\004\000\001\000\002' >"$tmp/tiny-labels-idx1-ubyte"
idx=$tmp/tiny-images-idx3-ubyte
eval_run 0 --class 0 --normal "$idx" --anomalous "$idx" --scores "$tmp/c.jsonl" --json
check "--class 0 on an IDX file runs" [ $? -eq 0 ]
py_test "--class 0: records of class 0 normal, the others anomalous" '
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
got = sorted((d["name"].rsplit("#", 1)[1], d["label"], d["class"]) for d in rows)
assert got == [("0", "normal", 0), ("1", "anomalous", 1),
               ("2", "normal", 0), ("3", "anomalous", 2)], got
assert all(d["tiles"] == 1 for d in rows), rows
r = json.load(open(sys.argv[2]))
assert r["class"] == 0 and r["n_normal"] == 2 and r["n_anomalous"] == 2, r
' "$tmp/c.jsonl" "$tmp/out"

# ---- the search's trace ------------------------------------------------------

# One search of 5 steps, read after 0, 2 and 5 steps, against searches of
# 0 and 2 steps; on the mixed set, whose pictures have 2 to 6 tiles, so
# that a picture's score at each step is the highest of several tiles.
eval_run 0 --normal "$data/normal" --anomalous "$tmp/mixed" --iterations 5 \
  --trace-steps 5,0,2,2 --scores "$tmp/trace.jsonl" --json &&
  cp "$tmp/out" "$tmp/trace.json"
check "--trace-steps runs" [ $? -eq 0 ]
for t in 0 2; do
  eval_run 0 --normal "$data/normal" --anomalous "$tmp/mixed" --iterations $t \
    --scores "$tmp/steps-$t.jsonl" --json && cp "$tmp/out" "$tmp/steps-$t.json"
done
py_test "the trace after t steps is, bit for bit, a search of t steps" '
import json, os, sys
here = sys.argv[1]
r = json.load(open(os.path.join(here, "trace.json")))
rows = [json.loads(line) for line in open(os.path.join(here, "trace.jsonl"))]
assert [p["iterations"] for p in r["trace"]] == [0, 2, 5], r["trace"]
# The last step is the run itself.
for key in ("auroc", "average_precision", "best_f1", "best_f1_threshold"):
    assert r["trace"][2][key] == r[key], (key, r["trace"][2], r)
for d in rows:
    assert d["trace"][2] == d["score"], d
for k, t in ((0, 0), (1, 2)):
    other = json.load(open(os.path.join(here, "steps-%d.json" % t)))
    scores = {d["name"]: d["score"]
              for d in map(json.loads, open(os.path.join(here, "steps-%d.jsonl" % t)))}
    assert len(scores) == len(rows) == 11, (len(scores), len(rows))
    for d in rows:
        assert d["trace"][k] == scores[d["name"]], (t, d, scores[d["name"]])
    for key in ("auroc", "average_precision", "best_f1", "best_f1_threshold"):
        assert r["trace"][k][key] == other[key], (t, key, r["trace"][k], other)
# The steps lower the scores: the trace is not one number repeated.
assert all(d["trace"][2] < d["trace"][0] for d in rows), rows
' "$tmp"

eval_run 0 --normal "$data/normal" --anomalous "$tmp/mixed" --iterations 5 \
  --trace-steps 0,2,5 &&
  grep -q '^after t steps of the same search:$' "$tmp/out" &&
  [ "$(grep -c '^  *[025]  [01]\.[0-9]\{4\}  [01]\.[0-9]\{4\}  *[01]\.[0-9]\{4\}$' "$tmp/out")" -eq 3 ]
check "text report: a row of AUROC, AP and best F1 per traced step" [ $? -eq 0 ]
diag "$tmp/out"

# ---- the encoder modes ------------------------------------------------------

run 2 --model "$model" $sets --mode encoder &&
  [ "$(lines "$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ] &&
  grep -q 'dcgan32/model.safetensors has no encoder' "$tmp/err"
check "--mode encoder on a model without an encoder: exit 2, one line naming the model" [ $? -eq 0 ]
diag "$tmp/err"

# The test model with an untrained encoder and a threshold for the
# optimising and the hybrid search, none for the encoder's alone.
enc=$tmp/encoder.safetensors
"$add_encoder" "$model" "$enc" optimise=590 hybrid=575 2>"$tmp/err"
check "add-encoder gives the test model an encoder" [ $? -eq 0 ]

"$tool" --model "$enc" --threads 1 $sets --mode encoder --json \
  --scores "$tmp/e-scores.jsonl" >"$tmp/e-report.json" 2>"$tmp/err" &&
  "$tool" --model "$enc" --threads 1 $sets --mode hybrid --iterations 4 \
    --trace-steps 0,4 --json --scores "$tmp/h-scores.jsonl" >"$tmp/h-report.json" 2>"$tmp/err"
check "--mode encoder and --mode hybrid run" [ $? -eq 0 ]
diag "$tmp/err"
py_test "hybrid after 0 steps is the encoder mode; each mode has its threshold" '
import json, os, sys
here = sys.argv[1]
e = json.load(open(os.path.join(here, "e-report.json")))
h = json.load(open(os.path.join(here, "h-report.json")))
assert e["mode"] == "encoder" and e["iterations"] == 0, e
assert e["patch_iterations"] == 0 and e["ms_per_tile"] > 0, e
assert h["mode"] == "hybrid" and h["iterations"] == 4, h
assert h["patch_iterations"] == 48, h
# The encoder mode was not calibrated, the hybrid one was.
assert e["threshold"] is None and e["threshold_f1"] is None, e
assert h["threshold"] == 575.0 and h["threshold_recall"] is not None, h
e_scores = {d["name"]: d["score"]
            for d in map(json.loads, open(os.path.join(here, "e-scores.jsonl")))}
rows = [json.loads(line) for line in open(os.path.join(here, "h-scores.jsonl"))]
assert len(rows) == 12, rows
for d in rows:
    assert d["trace"][0] == e_scores[d["name"]], (d, e_scores[d["name"]])
    assert d["trace"][1] == d["score"] < d["trace"][0], d
for key in ("auroc", "average_precision", "best_f1"):
    assert h["trace"][0][key] == e[key], (key, h["trace"][0], e)
' "$tmp"
py_test "... and the metrics at the hybrid threshold agree with a brute-force recomputation" \
  "$recompute" "$tmp/h-scores.jsonl" "$tmp/h-report.json"

"$tool" --model "$enc" --threads 1 $sets --mode encoder >"$tmp/out" 2>"$tmp/err" &&
  grep -q '^search: encoder mode, 0 iterations, ' "$tmp/out" &&
  grep -q '^model threshold: none for --mode encoder$' "$tmp/out"
check "text report: the mode, and no threshold where the mode has none" [ $? -eq 0 ]
diag "$tmp/out"

tap_end
