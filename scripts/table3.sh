#!/usr/bin/env bash
# The paper's Table 3 on the data we have: every system explains the same test split, and every trained
# system learns from the same goldens (the same training subset) for the same time budget on this CPU.
#   Teacher          the rule oracle's goldens themselves (the references)
#   Prism            the user-aware student (scripts/train_student.py), decoded freely, and under its
#                    grounding constraints ("grounded decoding", GROUNDING.md), served by Swift workers
#   Prism w/o User   the same student trained and served without the user table (--no-user)
#   Att2Seq, PEPLER  the ID-based baselines (scripts/train_baseline.py; PEPLER from a random GPT-2 config)
#   BART zero-shot   only with PRISM_BART_INIT=<a pretrained Hugging Face BART folder>
# then `prism eval --semantic` (ROUGE, BERTScore, GPTScore, grounding, diversity, user sensitivity) and
# scripts/eval/table3.py: $PRISM_OUT/table3.md and table3.png.
#   scripts/table3.sh                                   # ML-100K
#   PRISM_DATASET=ml-latest PRISM_DATA=../shared/data/ml-latest-small scripts/table3.sh
# Stages whose outputs exist are not run again (delete the folder to start over).
set -euo pipefail
cd "$(dirname "$0")/.."
dataset=${PRISM_DATASET:-ml-100k}
case "$dataset" in
  ml-100k) default_input=../shared/data/ml-100k ;;
  ml-latest) default_input=../shared/data/ml-latest-small ;;
  *) default_input=../shared/data/$dataset ;;
esac
data_dir=${PRISM_DATA:-$default_input}
out=${PRISM_OUT:-out/table3-$dataset}
minutes=${PRISM_TRAIN_MINUTES:-5}          # the training budget of every trained system
train_samples=${PRISM_TRAIN_SAMPLES:-20000}
history=${PRISM_HISTORY:-10}
# Test cases (0: the whole test split). GPTScore reads every case's whole request under a 135M-parameter
# evaluator: ~0.8 s per case and system on 2 cores, so 300 cases x 7 systems take ~30 minutes.
count=${PRISM_EVAL_COUNT:-300}
probes=${PRISM_PROBES:-100}
bart_init=${PRISM_BART_INIT:-}
# sample: the oracle's wording varies by sample (the same for every user); user: each user keeps one
# voice (RuleOracle.Style), the goldens depend on the user and Prism's user table has something to learn.
oracle_style=${PRISM_ORACLE_STYLE:-sample}
baselines=${PRISM_BASELINES:-1}            # 0: the two students only (Att2Seq and PEPLER not trained)
semantic=${PRISM_SEMANTIC:-1}              # 0: no BERTScore / GPTScore (minutes instead of half an hour)
copy=${PRISM_COPY:-0}                      # 1: both Prism rows are copying students (Sources/BART/COPYING.md)
copy_flag=(); [ "$copy" = 1 ] && copy_flag=(--copy)
mkdir -p "$out"
log() { printf '\n== %s  %s\n' "$(date +%H:%M:%S)" "$*"; }
started=$(date +%s)

prism=.build/release/prism
. scripts/lib/fleet.sh
scripts/setup-system.sh
python=$(scripts/setup-python.sh --train | tail -n 1)
swift build -c release --product prism 2>&1 | tail -n 1

if [ ! -f "$out/data/samples.jsonl" ]; then
  log "1. data: $dataset from $data_dir"
  $prism data prepare --dataset "$dataset" --input "$data_dir" --output "$out/data" --history "$history"
fi
start_broker "$out"
if [ ! -f "$out/distill/distilled.jsonl" ]; then
  log "2. goldens: 2 rule-oracle teacher workers ($oracle_style style)"
  for i in 1 2; do
    $prism worker --broker "$be" --service teacher --teacher rule --oracle-style "$oracle_style" --id "teacher-$i" \
      --log-level warning 2>>"$out/teachers.log" &
    pids+=($!)
  done
  $prism distill --data "$out/data" --output "$out/distill" --broker "$fe" --max-train-samples "$train_samples" --log-level warning
fi
goldens=$out/distill/distilled.jsonl

student() { # NAME [extra arguments]: the demo's student architecture and schedule
  local name=$1; shift
  [ -f "$out/$name/prism.json" ] && return 0
  log "3. training $name ($minutes min)"
  "$python" scripts/train_student.py --distilled "$goldens" --catalog "$out/data/catalog.jsonl" --output "$out/$name" \
    --from-scratch --max-minutes "$minutes" --max-train-samples "$train_samples" \
    --d-model 128 --encoder-layers 2 --decoder-layers 2 --heads 4 --ffn 512 --vocab-size 2048 \
    --max-input-tokens 448 --max-target-tokens 96 --batch-size 32 --lr 1.5e-3 --dropout 0.1 --epochs 8 --threads 2 \
    --quiet "${copy_flag[@]}" "$@"
}
baseline() { # MODEL
  [ -f "$out/$1/outputs.jsonl" ] && return 0
  log "3. training $1 ($minutes min)"
  "$python" scripts/train_baseline.py --model "$1" --distilled "$goldens" --samples "$out/data/samples.jsonl" \
    --output "$out/$1" --max-minutes "$minutes" --max-train-samples "$train_samples" --max-target-tokens 96 \
    --vocab-size 2048 --threads 2 --quiet
}
student prism
student prism-nouser --no-user
candidates=()
trained=(--trained "prism=$out/prism/prism.json" --trained "prism-nouser=$out/prism-nouser/prism.json")
notes=()
if [ "$baselines" = 1 ]; then
  baseline att2seq
  baseline pepler
  for name in att2seq pepler; do
    candidates+=(--candidate "$name=$out/$name/outputs.jsonl")
    trained+=(--trained "$name=$out/$name/summary.json")
  done
else
  notes+=(--note "Att2Seq and PEPLER: not run (PRISM_BASELINES=0)")
fi
semantic_flags=(--semantic --python "$python")
[ "$semantic" = 1 ] || semantic_flags=()
if [ -n "$bart_init" ]; then
  [ -f "$out/bart-zero-shot/outputs.jsonl" ] || "$python" scripts/baselines/bart_zero_shot.py --init "$bart_init" \
    --distilled "$goldens" --catalog "$out/data/catalog.jsonl" --output "$out/bart-zero-shot/outputs.jsonl"
  candidates+=(--candidate "bart-zero-shot=$out/bart-zero-shot/outputs.jsonl")
else
  notes+=(--note "BART zero-shot: not run (no pretrained BART folder can be had offline here; PRISM_BART_INIT=DIR runs it)")
fi

log "4. serving both students: prism.explain (Prism) and prism.explain.nouser (Prism w/o User)"
for spec in "prism.explain:prism" "prism.explain.nouser:prism-nouser"; do
  $prism worker --broker "$be" --service "${spec%%:*}" --model "$out/${spec##*:}" --catalog "$out/data/catalog.jsonl" \
    --capacity 8 --batch-wait-ms 5 --id "${spec##*:}" --log-level warning 2>>"$out/students.log" &
  pids+=($!)
done
wait_for_workers prism.explain 1
wait_for_workers prism.explain.nouser 1

log "5. prism eval: the same test cases for every system (all users known, as in the paper's setting)"
$prism eval --data "$out/data" --references "$goldens" ${candidates[@]+"${candidates[@]}"} \
  --service prism=prism.explain --service prism-nouser=prism.explain.nouser --modes free,student \
  --broker "$fe" --unknown-users 0 --probes "$probes" --count "$count" ${semantic_flags[@]+"${semantic_flags[@]}"} --output "$out/eval" | tee "$out/eval.txt"

log "6. the table"
"$python" scripts/eval/table3.py "$out/eval/report.json" "$out" --dataset "$dataset" \
  "${trained[@]}" \
  --note "dataset: $dataset ($data_dir), history $history items; goldens: the rule oracle ($oracle_style style); every trained system: the same $train_samples training samples, $minutes min on this machine's CPU (2 threads)" \
  --note "user sensitivity: $probes (history, item) pairs explained again for an unknown and for another real user (Prism rows only: the baselines' output files have no probes)" \
  "${notes[@]}"
log "done in $(( $(date +%s) - started )) s: $out/table3.md"
