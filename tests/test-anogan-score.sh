#!/bin/sh
# Tests of the anogan-score tool, in TAP.  meson passes the tool's path as
# $1 and add-encoder's (tests/add-encoder.c) as $2; the pictures are in
# tests/data (made by tests/data/make-test-images.py) and the model is
# $ANOGAN_TEST_DATA/dcgan32/model.safetensors (1x32x32 tiles), without an
# encoder; add-encoder gives a copy of it an untrained one.  Only the tool, shell utilities, gst-launch-1.0 (to make a video)
# and python3's standard library (to parse the JSON lines) are used.
set -u

tool=$1
add_encoder=$2
data=${ANOGAN_SOURCE_ROOT:?}/tests/data
model=${ANOGAN_TEST_DATA:?}/dcgan32/model.safetensors
. "$(dirname "$0")/tap.sh"

# json_check ASSERTIONS: parses every line of $tmp/out as JSON into `docs`
# and runs the Python assertions on them.
json_check () {
  python3 -c '
import json, sys
docs = [json.loads(line) for line in open(sys.argv[1])]
exec(sys.argv[2])
' "$tmp/out" "$1"
}

# ---- without a model ------------------------------------------------------

run 0 --help && grep -q -- '--stride' "$tmp/out" && grep -q -- '--residual-out' "$tmp/out" &&
  grep -q 'Exit status' "$tmp/out"
check "--help describes the options and exit status" [ $? -eq 0 ]

bad_args "unknown option" --bogus --model "$model" "$data/grey-48x40.png"
bad_args "no --model" "$data/grey-48x40.png"
bad_args "no pictures" --model "$model"
bad_args "--loss l3" --model "$model" --loss l3 "$data/grey-48x40.png"
bad_args "--z-init sideways" --model "$model" --z-init sideways "$data/grey-48x40.png"
bad_args "--iterations -1" --model "$model" --iterations -1 "$data/grey-48x40.png"
bad_args "--iterations ten" --model "$model" --iterations ten "$data/grey-48x40.png"
bad_args "--lr 0" --model "$model" --lr 0 "$data/grey-48x40.png"
bad_args "--lambda 1.5" --model "$model" --lambda 1.5 "$data/grey-48x40.png"
bad_args "--batch 0" --model "$model" --batch 0 "$data/grey-48x40.png"
bad_args "--threads -2" --model "$model" --threads -2 "$data/grey-48x40.png"
bad_args "--stride 0" --model "$model" --stride 0 "$data/grey-48x40.png"
bad_args "--mode sideways" --model "$model" --mode sideways "$data/grey-48x40.png"
bad_args "--mode encoder with --iterations" --model "$model" --mode encoder \
  --iterations 3 "$data/grey-48x40.png"
bad_args "--mode hybrid with --z-init" --model "$model" --mode hybrid \
  --z-init normal "$data/grey-48x40.png"
bad_args "--info with pictures" --info "$model" "$data/grey-48x40.png"

run 1 --model "$tmp/no-such-model.safetensors" "$data/grey-48x40.png" &&
  grep -q 'no-such-model.safetensors' "$tmp/err"
check "a missing model exits 1 naming the file" [ $? -eq 0 ]

printf 'this is not a safetensors file' >"$tmp/garbage.safetensors"
run 1 --model "$tmp/garbage.safetensors" "$data/grey-48x40.png" &&
  grep -q 'garbage.safetensors' "$tmp/err" && [ ! -s "$tmp/out" ]
check "a malformed model exits 1 naming the file" [ $? -eq 0 ]

run 1 --info "$tmp/garbage.safetensors" && grep -q 'garbage.safetensors' "$tmp/err"
check "--info on a malformed model exits 1 naming the file" [ $? -eq 0 ]

# ---- with the model -------------------------------------------------------

if [ ! -f "$model" ]; then
  skip "no model at $model (run tests/golden/make-golden.py)"
  echo "1..$n"
  exit $((failures > 0))
fi

if ! command -v python3 >/dev/null; then
  have_python=false
else
  have_python=true
fi

# json_test DESCRIPTION ASSERTIONS: a test point on the last run's output.
json_test () {
  if ! $have_python; then
    skip "$1 (no python3 to parse JSON)"
  elif json_check "$2"; then
    ok "$1"
  else
    diag "$tmp/out"
    not_ok "$1"
  fi
}

# score STATUS ARGS...: run with the model and a short search.
score () {
  want_status=$1; shift
  run "$want_status" --model "$model" --iterations 3 --threads 1 "$@"
}

run 0 --info "$model" &&
  grep -q 'ConvTranspose2d' "$tmp/out" && grep -q 'Conv2d' "$tmp/out" &&
  grep -q 'BatchNorm2d' "$tmp/out" && grep -q '^FLOPs per patch-iteration: [0-9]' "$tmp/out" &&
  grep -q '^input: \[1,32,32\]' "$tmp/out" && grep -q 'nz 64' "$tmp/out" &&
  grep -q '<- f(x)' "$tmp/out" && grep -q '^lambda: ' "$tmp/out" &&
  grep -q '^threshold: ' "$tmp/out" && grep -q '^metadata:' "$tmp/out"
check "--info lists layers, shapes, FLOPs, lambda, threshold, metadata" [ $? -eq 0 ]
diag "$tmp/out"
[ "$(grep -c '^ *[0-9][0-9]*  [A-Za-z]' "$tmp/out")" -eq 21 ]
check "--info lists the 11 layers of G and the 10 of D" [ $? -eq 0 ]

score 0 --json "$data/grey-48x40.png" "$data/colour-80x50.png" \
  "$data/photo-40x36.jpg" "$data/alpha-33x32.png"
check "four pictures (grey and RGB PNG, JPEG, RGBA PNG) are scored" [ $? -eq 0 ]
json_test "--json: one object a line, with every field and the right tiles" '
import math, os
assert len(docs) == 4, len(docs)
names = [os.path.basename(d["file"]) for d in docs]
assert names == ["grey-48x40.png", "colour-80x50.png", "photo-40x36.jpg",
                 "alpha-33x32.png"], names
for d in docs:
    for key in ("score", "residual", "discrimination"):
        assert isinstance(d[key], float) and math.isfinite(d[key]), (key, d)
    assert d["iterations"] == 3 and d["mode"] == "optimise", d
    tiles = d["tiles"]
    assert d["score"] == max(t["score"] for t in tiles), d
    lam = 0.1
    want = (1 - lam) * d["residual"] + lam * d["discrimination"]
    assert abs(d["score"] - want) <= 1e-4 * abs(want), (d["score"], want)
# stride = tile size 32: 48 -> x 0, 16; 40 -> y 0, 8; 80 -> 0, 32, 48;
# 50 -> 0, 18; 40 -> 0, 8; 36 -> 0, 4; 33 -> 0, 1; 32 -> 0.
want = [([0, 16], [0, 8]), ([0, 32, 48], [0, 18]), ([0, 8], [0, 4]),
        ([0, 1], [0])]
for d, (xs, ys) in zip(docs, want):
    got = [(t["x"], t["y"]) for t in d["tiles"]]
    assert got == [(x, y) for y in ys for x in xs], (d["file"], got)
'

score 0 --json --stride 20 "$data/colour-80x50.png"
json_test "--stride 20 on 80x50: 8 tiles at x 0,20,40,48 and y 0,18" '
tiles = docs[0]["tiles"]
assert len(tiles) == 8, len(tiles)
assert sorted({t["x"] for t in tiles}) == [0, 20, 40, 48]
assert sorted({t["y"] for t in tiles}) == [0, 18]
'

score 2 --stride 33 "$data/grey-48x40.png" &&
  [ "$(lines "$tmp/err")" -eq 1 ] && grep -q '33' "$tmp/err"
check "bad arguments exit 2: --stride larger than the tile" [ $? -eq 0 ]

# Several batches per picture and random starts: the split among threads
# must not change a bit of the output.
common="--iterations 4 --batch 3 --z-init normal --seed 5 --stride 8 --json"
"$tool" --model "$model" $common --threads 1 "$data/grey-48x40.png" "$data/photo-40x36.jpg" \
  >"$tmp/one" 2>&1 &&
  "$tool" --model "$model" $common --threads 2 "$data/grey-48x40.png" "$data/photo-40x36.jpg" \
  >"$tmp/two" 2>&1 &&
  [ "$(lines "$tmp/one")" -eq 2 ] && cmp -s "$tmp/one" "$tmp/two"
check "--threads 1 and --threads 2 give identical output" [ $? -eq 0 ]

score 0 --json --lambda 0 "$data/grey-48x40.png"
json_test "--lambda 0 scores the residual alone" '
d = docs[0]
assert abs(d["score"] - d["residual"]) <= 1e-5 * d["residual"], d
'
score 0 --json --lambda 1 "$data/grey-48x40.png"
json_test "--lambda 1 scores the discrimination alone" '
d = docs[0]
assert abs(d["score"] - d["discrimination"]) <= 1e-5 * d["discrimination"], d
'
score 0 --iterations 0 --json "$data/grey-48x40.png"
json_test "--iterations 0 scores the starting point" '
assert docs[0]["iterations"] == 0, docs[0]
'

score 0 "$data/grey-48x40.png" "$data/photo-40x36.jpg" &&
  [ "$(lines "$tmp/out")" -eq 2 ] &&
  grep -q '^.*grey-48x40.png: score [0-9.e+-]* (residual .*discrimination .*; optimise mode, 3 iterations) at tile ([0-9]*, [0-9]*) of 4$' "$tmp/out" &&
  grep -q 'photo-40x36.jpg: score' "$tmp/out"
check "text output: one readable line per picture" [ $? -eq 0 ]
diag "$tmp/out"

score 1 "$tmp/missing.png" "$data/grey-48x40.png" &&
  [ "$(lines "$tmp/err")" -eq 1 ] && grep -q 'missing.png' "$tmp/err" &&
  [ "$(lines "$tmp/out")" -eq 1 ] && grep -q 'grey-48x40.png: score' "$tmp/out"
check "a missing picture: one error line naming it, exit 1, the other scored" [ $? -eq 0 ]
diag "$tmp/err"

printf 'not a picture\n' >"$tmp/text.png"
score 1 "$data/grey-48x40.png" "$tmp/text.png" "$data/tiny-20x20.png" &&
  [ "$(lines "$tmp/err")" -eq 2 ] && grep -q 'text.png' "$tmp/err" &&
  grep -q 'tiny-20x20.png.*smaller' "$tmp/err" && [ "$(lines "$tmp/out")" -eq 1 ]
check "undecodable and too small pictures are reported, the good one scored" [ $? -eq 0 ]
diag "$tmp/err"

# Names that need escaping in JSON.
odd="$tmp/a \"quoted\" back\\slash.png"
cp "$data/grey-48x40.png" "$odd"
score 0 --json "$odd"
json_test "--json escapes awkward file names" '
import os
assert os.path.basename(docs[0]["file"]) == "a \"quoted\" back\\slash.png", docs
'

score 0 --residual-out "$tmp/maps" "$data/colour-80x50.png" "$data/grey-48x40.png" &&
  [ "$(png_size "$tmp/maps/colour-80x50-residual.png")" = "80 50" ] &&
  [ "$(png_size "$tmp/maps/grey-48x40-residual.png")" = "48 40" ]
check "--residual-out writes picture-sized PNGs" [ $? -eq 0 ]

# The residual map is scaled to its own maximum: something must be white.
if $have_python; then
  python3 - "$tmp/maps/grey-48x40-residual.png" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
pos, idat, width, height, ctype = 8, b"", 0, 0, 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
        assert depth == 8
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
raw = zlib.decompress(idat)
bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
stride = width * bpp
rows, prev = [], bytearray(stride)
for y in range(height):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            line[i] = (line[i] + pr) & 255
    rows.append(line)
    prev = line
values = [v for line in rows for v in line]
assert max(values) == 255, max(values)
assert min(values) < 255, min(values)
EOF
  check "the residual map spans the grey ramp" [ $? -eq 0 ]
else
  skip "the residual map spans the grey ramp (no python3)"
fi

# ---- sources: directories, videos, IDX files --------------------------------

# A directory: its pictures in byte order of their names; hidden files,
# other files and subdirectories are passed over.
mkdir -p "$tmp/parts/sub"
cp "$data/photo-40x36.jpg" "$tmp/parts/b-photo.jpg"
cp "$data/grey-48x40.png" "$tmp/parts/a-grey.png"
cp "$data/grey-48x40.png" "$tmp/parts/.hidden.png"
cp "$data/grey-48x40.png" "$tmp/parts/sub/c.png"
printf 'notes, not a picture\n' >"$tmp/parts/notes.txt"
score 0 "$tmp/parts" && [ "$(lines "$tmp/out")" -eq 2 ] &&
  sed -n 1p "$tmp/out" | grep -q "^$tmp/parts/a-grey.png: score [0-9]" &&
  sed -n 2p "$tmp/out" | grep -q "^$tmp/parts/b-photo.jpg: score [0-9]"
check "a directory: one line per picture, in name order, others passed over" [ $? -eq 0 ]
diag "$tmp/out"

# Its pictures score as they do given one by one (to the float rounding of
# batched products: the directory's pictures are searched together).
score 0 --json "$tmp/parts/a-grey.png" && mv "$tmp/out" "$tmp/one.json" &&
  score 0 --json "$tmp/parts/b-photo.jpg" && cat "$tmp/out" >>"$tmp/one.json" &&
  score 0 --json "$tmp/parts"
json_test "a directory's scores are its pictures' scored one by one" '
import os
one = [json.loads(line) for line in open(os.path.join(os.path.dirname(sys.argv[1]), "one.json"))]
assert len(docs) == len(one) == 2, (len(docs), len(one))
for d, o in zip(docs, one):
    assert d["file"] == o["file"], (d["file"], o["file"])
    assert len(d["tiles"]) == len(o["tiles"]) == 4, d
    for key in ("score", "residual", "discrimination"):
        assert abs(d[key] - o[key]) <= 1e-5 * abs(o[key]), (key, d[key], o[key])
'

# A video: six frames at 10 per second of a moving ball, raw in AVI so
# that the decoded frames are exactly the pictures drawn; the same frames
# as PNG files are the reference.
if command -v gst-launch-1.0 >/dev/null &&
  gst-launch-1.0 -q videotestsrc num-buffers=6 pattern=ball ! \
    video/x-raw,format=GRAY8,width=64,height=48,framerate=10/1 ! \
    avimux ! filesink location="$tmp/clip.avi" >/dev/null 2>&1 &&
  gst-launch-1.0 -q videotestsrc num-buffers=6 pattern=ball ! \
    video/x-raw,format=GRAY8,width=64,height=48,framerate=10/1 ! \
    pngenc ! multifilesink location="$tmp/frame-%d.png" >/dev/null 2>&1; then
  score 0 --frame-interval 2 --residual-out "$tmp/clip-maps" "$tmp/clip.avi" &&
    [ "$(lines "$tmp/out")" -eq 3 ] &&
    sed -n 1p "$tmp/out" | grep -q "^$tmp/clip.avi@0.000s: score [0-9].* of 4\$" &&
    sed -n 2p "$tmp/out" | grep -q "^$tmp/clip.avi@0.200s: score [0-9].* of 4\$" &&
    sed -n 3p "$tmp/out" | grep -q "^$tmp/clip.avi@0.400s: score [0-9].* of 4\$"
  check "a video with --frame-interval 2: frames 0, 2 and 4, named by time" [ $? -eq 0 ]
  diag "$tmp/out"

  [ "$(png_size "$tmp/clip-maps/clip-0.000s-residual.png")" = "64 48" ] &&
    [ "$(png_size "$tmp/clip-maps/clip-0.200s-residual.png")" = "64 48" ] &&
    [ "$(png_size "$tmp/clip-maps/clip-0.400s-residual.png")" = "64 48" ] &&
    [ "$(ls "$tmp/clip-maps" | wc -l)" -eq 3 ]
  check "frames' residual maps are named SOURCE-TIMEs-residual.png" [ $? -eq 0 ]
  ls "$tmp/clip-maps" | diag

  score 0 --json "$tmp/frame-0.png" "$tmp/frame-2.png" "$tmp/frame-4.png" &&
    mv "$tmp/out" "$tmp/frames.json" &&
    score 0 --json --frame-interval 2 "$tmp/clip.avi"
  json_test "a video's frames score as the same frames in PNG files" '
import os
ref = [json.loads(line) for line in open(os.path.join(os.path.dirname(sys.argv[1]), "frames.json"))]
assert len(docs) == len(ref) == 3, (len(docs), len(ref))
for d, r in zip(docs, ref):
    for key in ("score", "residual", "discrimination"):
        assert abs(d[key] - r[key]) <= 1e-5 * abs(r[key]), (d["file"], key, d[key], r[key])
# The ball moves: the frames are not all alike.
assert len({round(d["score"], 3) for d in docs}) > 1, [d["score"] for d in docs]
'

  score 2 --class 1 "$tmp/clip.avi" "$data/grey-48x40.png" &&
    [ "$(lines "$tmp/err")" -eq 2 ] && grep -q 'clip.avi.*IDX' "$tmp/err" &&
    [ ! -s "$tmp/out" ]
  check "bad arguments exit 2: --class on a video and a picture" [ $? -eq 0 ]
  diag "$tmp/err"
else
  skip "a video with --frame-interval 2 (GStreamer cannot write AVI here)"
  skip "frames' residual maps (GStreamer cannot write AVI here)"
  skip "a video's frames score as PNG files (GStreamer cannot write AVI here)"
  skip "--class on a video (GStreamer cannot write AVI here)"
fi

bad_args "--frame-interval 0" --model "$model" --frame-interval 0 "$data/grey-48x40.png"
bad_args "--class -3" --model "$model" --class -3 "$data/grey-48x40.png"

# An IDX file of three 28x28 records labelled 1, 0, 1, padded to the
# model's 32x32 tile; --class 1 keeps records 0 and 2.
idx=$tmp/t-images-idx3-ubyte
{ printf '\0\0\10\3\0\0\0\3\0\0\0\34\0\0\0\34'
  LC_ALL=C awk 'BEGIN { for (i = 0; i < 3 * 784; i++) printf "%c", i * 7 % 127 + 1 }' </dev/null
} >"$idx"
printf '\0\0\10\1\0\0\0\3\1\0\1' >"$tmp/t-labels-idx1-ubyte"
score 0 --class 1 --residual-out "$tmp/idx-maps" "$idx" &&
  [ "$(lines "$tmp/out")" -eq 2 ] &&
  sed -n 1p "$tmp/out" | grep -q "^$idx#0: score [0-9].* of 1\$" &&
  sed -n 2p "$tmp/out" | grep -q "^$idx#2: score [0-9].* of 1\$" &&
  [ "$(png_size "$tmp/idx-maps/t-images-idx3-ubyte-0-residual.png")" = "32 32" ] &&
  [ "$(png_size "$tmp/idx-maps/t-images-idx3-ubyte-2-residual.png")" = "32 32" ]
check "an IDX file with --class 1: its records of class 1, padded to the tile" [ $? -eq 0 ]
diag "$tmp/out"
score 0 --json "$idx"
json_test "--json gives an IDX record's label" '
assert [d["label"] for d in docs] == [1, 0, 1], docs
assert [d["file"].rsplit("#", 1)[1] for d in docs] == ["0", "1", "2"], docs
'

# A source that cannot be read: one line naming it, exit 1, the other
# sources still scored.
printf 'Neither a picture nor a video, only some words.\n' >"$tmp/junk.dat"
score 1 "$tmp/junk.dat" "$tmp/parts" "$tmp/no-such-dir/" &&
  [ "$(lines "$tmp/err")" -eq 2 ] && grep -q 'junk.dat' "$tmp/err" &&
  grep -q 'no-such-dir' "$tmp/err" && [ "$(lines "$tmp/out")" -eq 2 ]
check "unreadable sources: one error line each, exit 1, the other scored" [ $? -eq 0 ]
diag "$tmp/err"

# ---- the encoder modes ------------------------------------------------------

for mode in encoder hybrid; do
  run 2 --model "$model" --mode $mode "$data/grey-48x40.png" &&
    [ "$(lines "$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ] &&
    grep -q "dcgan32/model.safetensors has no encoder.*--mode optimise" "$tmp/err"
  check "--mode $mode on a model without an encoder: exit 2, one line naming the model" [ $? -eq 0 ]
  diag "$tmp/err"
done

# The test model with an untrained encoder: G and D are the same.  The
# thresholds are far apart, so that the verdict shows whose it is.
enc=$tmp/encoder.safetensors
if "$add_encoder" "$model" "$enc" optimise=1 hybrid=1e9 2>"$tmp/err"; then
  ok "add-encoder gives the test model an encoder"
else
  diag "$tmp/err"
  not_ok "add-encoder gives the test model an encoder"
fi

run 0 --info "$enc" && grep -q '^encoder (E): 9 layers' "$tmp/out" &&
  grep -q '^threshold: 1$' "$tmp/out" &&
  grep -q '^threshold of --mode encoder: none$' "$tmp/out" &&
  grep -q '^threshold of --mode hybrid: 1e+09$' "$tmp/out" &&
  grep -q "^FLOPs of the encoder's start per patch: " "$tmp/out" &&
  ! grep -q '^  encoder:' "$tmp/out"
check "--info lists the encoder's layers and each mode's threshold" [ $? -eq 0 ]
diag "$tmp/out"
run 0 --info "$model" && grep -q '^encoder (E): none' "$tmp/out" &&
  ! grep -q 'threshold of --mode' "$tmp/out"
check "--info on a model without an encoder says so" [ $? -eq 0 ]

pictures="$data/grey-48x40.png $data/colour-80x50.png"
run 0 --model "$model" --iterations 3 --threads 1 --json $pictures &&
  mv "$tmp/out" "$tmp/plain.json" &&
  run 0 --model "$enc" --iterations 3 --threads 1 --json $pictures
json_test "--mode optimise scores with the encoder's model as without" '
import os
plain = [json.loads(line) for line in open(os.path.join(os.path.dirname(sys.argv[1]), "plain.json"))]
assert docs == plain, (docs, plain)
'

run 0 --model "$enc" --mode encoder --threads 1 --json $pictures &&
  mv "$tmp/out" "$tmp/encoder.json"
check "--mode encoder scores" [ $? -eq 0 ]
run 0 --model "$enc" --mode hybrid --iterations 0 --threads 1 --json $pictures &&
  mv "$tmp/out" "$tmp/hybrid0.json" &&
  run 0 --model "$enc" --mode hybrid --threads 1 --json $pictures
json_test "--mode encoder: the loss at E(x); hybrid takes 10 steps from it" '
import os
here = os.path.dirname(sys.argv[1])
encoder = [json.loads(line) for line in open(os.path.join(here, "encoder.json"))]
hybrid0 = [json.loads(line) for line in open(os.path.join(here, "hybrid0.json"))]
plain = [json.loads(line) for line in open(os.path.join(here, "plain.json"))]
assert len(encoder) == len(docs) == 2, (encoder, docs)
for e, h0, h, p in zip(encoder, hybrid0, docs, plain):
    assert e["mode"] == "encoder" and e["iterations"] == 0, e
    assert h0["mode"] == "hybrid" and h0["iterations"] == 0, h0
    assert h["mode"] == "hybrid" and h["iterations"] == 10, h
    want = 0.9 * e["residual"] + 0.1 * e["discrimination"]
    assert abs(e["score"] - want) <= 1e-4 * want, e
    # Hybrid without steps is the encoder mode, bit for bit.
    assert e["tiles"] == h0["tiles"], (e, h0)
    # Another start than the origin: other scores.
    assert e["score"] != p["score"], (e, p)
    # Ten steps from E(x) bring every tile lower than E(x) alone.
    for te, th in zip(e["tiles"], h["tiles"]):
        assert th["score"] < te["score"], (te, th)
'

run 0 --model "$enc" --iterations 3 --threads 1 "$data/grey-48x40.png" &&
  grep -q 'optimise mode, 3 iterations) .*, ANOMALOUS (threshold 1)$' "$tmp/out" &&
  run 0 --model "$enc" --mode hybrid --iterations 3 --threads 1 "$data/grey-48x40.png" &&
  grep -q 'hybrid mode, 3 iterations) .*, normal (threshold 1e+09)$' "$tmp/out" &&
  run 0 --model "$enc" --mode encoder --threads 1 "$data/grey-48x40.png" &&
  grep -q 'encoder mode, 0 iterations) at tile ([0-9]*, [0-9]*) of 4$' "$tmp/out"
check "the verdict takes the mode's threshold, and none where the mode has none" [ $? -eq 0 ]
diag "$tmp/out"

tap_end
