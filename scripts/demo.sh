#!/usr/bin/env bash
# The main job on the embedded default, end to end on real data, on this machine's CPU:
#   1. prepare ML-100K (../shared/data/ml-100k, or $PRISM_DATA) into samples and an enriched catalog
#   2. start a broker and rule-oracle teacher workers on loopback, distill golden explanations
#   3. train a small user-aware student from scratch (PyTorch, CPU, a few minutes)
#   4. start Prism workers serving the student; the ranking stage: a real recommender (ALS, `implicit`)
#      trained on the same training split ranks the films each test user has NOT seen (HR@10 and NDCG@10
#      printed next to most-popular's), and a ranking service asks Prism why for its top pick (unknown
#      users included): the ranker's pick, rank and score with Prism's explanation, then p50/p95
#   5. check what was served (prism eval): every explanation of $PRISM_EVAL_COUNT held-out requests
#      against its request's facts (grounded %, item named %, wrong titles %): the replies the grounding
#      guard served and the student's own first explanations (decoded under its grounding constraints;
#      PRISM_EVAL_MODES=served,student,free adds the same student without them), on the test split
#      (with the goldens: ROUGE too) and on the ranker's picks; a warning when grounded < 95 %
# Every stage writes to $PRISM_OUT (default out/demo); each can be re-run on its own with the same
# commands. Note: the teacher here is the grounded RULE ORACLE (not an LLM) so that everything runs
# offline; point `prism worker --teacher openai` at a real LLM server for real goldens.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${PRISM_OUT:-out/demo}
data_dir=${PRISM_DATA:-../shared/data/ml-100k}
distill_samples=${PRISM_DISTILL_SAMPLES:-0}     # 0: every sample
# Train samples distilled and read by training: 5 minutes on 2 cores see ~16,000 of them.
train_samples=${PRISM_TRAIN_SAMPLES:-20000}
train_minutes=${PRISM_TRAIN_MINUTES:-5}
# Items of history per sample. The teacher's prompt and the student's input show the same items, so
# every film a golden explanation names is in the student's input: 10 items render to ~390 student
# tokens (p99 ~480), inside the 448-token input budget for most samples (the oldest are dropped
# otherwise, and the grounding constraints then only allow the titles the input shows).
history=${PRISM_HISTORY:-10}
# 1: a copying student (Sources/BART/COPYING.md): it writes the titles its input shows even decoded freely.
copy=${PRISM_COPY:-1}
copy_flag=(); [ "$copy" = 1 ] && copy_flag=(--copy)
teachers=${PRISM_TEACHERS:-2}
students=${PRISM_STUDENTS:-2}
# The students' precision: int8-encoder is the fastest that keeps >= 98 % of served explanations the same
# text as fp32 on the demo student (docs/bench/int8-2026-12-03.md section 7); a CPU without VNNI serves fp32.
precision=${PRISM_PRECISION:-int8-encoder}
eval_count=${PRISM_EVAL_COUNT:-200}
# served: what the fleet answers (guard on); student: its own first text under the grounding
# constraints; add "free" to see the same student decode without them.
eval_modes=${PRISM_EVAL_MODES:-served,student}
mkdir -p "$out"
log() { printf '\n== %s  %s\n' "$(date +%H:%M:%S)" "$*"; }
started=$(date +%s)

prism=.build/release/prism
. scripts/lib/fleet.sh

log "set-up: system packages, Python (PyTorch for training) while the release build runs"
scripts/setup-system.sh
# The PyTorch download is network-bound and the build CPU-bound: they run side by side, and
# training waits for the first.
scripts/setup-python.sh --train >"$out/python-path" 2>"$out/setup-python.log" &
python_setup=$!
pids+=($python_setup)
swift build -c release --product prism 2>&1 | tail -n 1

log "1. data: $data_dir"
$prism data prepare --dataset ml-100k --input "$data_dir" --output "$out/data" --history "$history"

log "2. fleet: broker + $teachers rule-oracle teacher workers; distilling"
start_broker "$out"
for i in $(seq "$teachers"); do
  $prism worker --broker "$be" --service teacher --teacher rule --id "teacher-$i" --log-level warning 2>>"$out/teachers.log" &
  pids+=($!)
done
limit=(); [ "$distill_samples" -gt 0 ] && limit=(--limit "$distill_samples")
# Goldens for the train samples the student will see (and every valid and test sample).
$prism distill --data "$out/data" --output "$out/distill" --broker "$fe" "${limit[@]}" --max-train-samples "$train_samples" \
  --log-level warning

wait "$python_setup" || { cat "$out/setup-python.log" >&2; echo "Python set-up failed" >&2; exit 1; }
python=$(tail -n 1 "$out/python-path")
log "3. training the student on the marked goldens (GROUNDING.md; from scratch, CPU, at most $train_minutes minutes)"
"$python" scripts/train_student.py --distilled "$out/distill/distilled.jsonl" --catalog "$out/data/catalog.jsonl" \
  --output "$out/student" --from-scratch --max-minutes "$train_minutes" --max-train-samples "$train_samples" \
  --d-model 128 --encoder-layers 2 --decoder-layers 2 --heads 4 --ffn 512 --vocab-size 2048 \
  --max-input-tokens 448 --max-target-tokens 96 --batch-size 32 --lr 1.5e-3 --dropout 0.1 --epochs 8 --threads 2 \
  "${copy_flag[@]}"

log "4. serving: $students Prism workers (prism.explain) on the same broker; the ranking stage calls them"
for i in $(seq "$students"); do
  $prism worker --broker "$be" --service prism.explain --model "$out/student" --catalog "$out/data/catalog.jsonl" \
    --precision "$precision" --capacity 8 --batch-wait-ms 5 --id "prism-$i" --log-level warning 2>>"$out/students.log" &
  pids+=($!)
done
wait_for_workers prism.explain "$students"
"$python" scripts/ranker/train_ranker.py --data "$out/data" --output "$out/ranker" | tee "$out/ranker.txt"
PYTHONPATH=clients/python/src "$python" clients/python/examples/ranking_service.py --broker "$fe" \
  --rankings "$out/ranker/rankings.jsonl" --catalog "$out/data/catalog.jsonl" --users 200 --unknown-users 40 --top 1 \
  --concurrency 16 --show 12 | tee "$out/ranking-service.txt"
for p in $(pgrep -f "service prism.explain" || true); do echo "Prism worker $p peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$p/status)"; done

log "5. faithfulness: $eval_count held-out requests (20 % unknown users) checked against their own facts"
$prism eval --data "$out/data" --references "$out/distill/distilled.jsonl" --service prism.explain --broker "$fe" \
  --count "$eval_count" --unknown-users 0.2 --probes 50 --modes "$eval_modes" --output "$out/eval" | tee "$out/eval.txt"
log "5b. faithfulness on the ranker's picks: $eval_count test users' top unseen film (no goldens exist for those)"
$prism eval --data "$out/data" --ranked "$out/ranker/rankings.jsonl" --service prism.explain --broker "$fe" \
  --count "$eval_count" --unknown-users 0.2 --probes 0 --modes "$eval_modes" --output "$out/eval-ranked" | tee "$out/eval-ranked.txt"

log "done in $(( $(date +%s) - started )) s; artefacts in $out"
