"""Trains a Table 3 baseline (att2seq or pepler) on distilled goldens within a time budget, then writes its
greedy explanations of the test split as JSON lines that `prism eval --candidate NAME=FILE` reads."""
import argparse
import copy
import json
import math
import os
import random
import time

import torch
from torch import nn

from prism_student.tokenizer import PAD
from prism_student.train import Progress, Schedule, make_batches, torch_device

from . import data as B


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="train_baseline.py", description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, choices=("att2seq", "pepler"))
    ap.add_argument("--distilled", required=True, help="distilled.jsonl: the goldens (the student's training data)")
    ap.add_argument("--samples", help="the data folder's samples.jsonl: each sample's rating (Att2Seq's third "
                                      "attribute, PEPLER's rating regulariser); without it ratings are unknown")
    ap.add_argument("--output", required=True, help="folder: outputs.jsonl, summary.json, model.pt")
    ap.add_argument("--max-train-samples", type=int, default=None, help="the student's --max-train-samples (same subset)")
    ap.add_argument("--max-valid-samples", type=int, default=200)
    ap.add_argument("--max-minutes", type=float, default=None, help="training time budget (the schedule adapts to it)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup", type=float, default=0.06)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--vocab-size", type=int, default=2048)
    ap.add_argument("--max-target-tokens", type=int, default=96, help="target ids incl. <s> </s>")
    ap.add_argument("--d-model", type=int, default=128, help="PEPLER width; Att2Seq's LSTM is 2 x d-model wide")
    ap.add_argument("--layers", type=int, default=None, help="PEPLER: 4 transformer layers; Att2Seq: 2 LSTM layers")
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--rating-weight", type=float, default=0.01, help="PEPLER's rating loss weight (0: none)")
    ap.add_argument("--no-repeat-ngram-size", type=int, default=3, help="greedy decoding bans repeated n-grams "
                                                                        "(the student's default)")
    ap.add_argument("--test-split", default="test", help="the split whose explanations are written")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--quiet", action="store_true")
    return ap.parse_args(argv)


def build(args, n_users, n_items, vocab_size):
    if args.model == "att2seq":
        from .att2seq import Att2Seq
        return Att2Seq(n_users, n_items, vocab_size, hidden=2 * args.d_model, layers=args.layers or 2,
                       dropout=args.dropout)
    from .pepler import Pepler
    return Pepler(n_users, n_items, vocab_size, d_model=args.d_model, layers=args.layers or 4,
                  max_target_tokens=args.max_target_tokens, dropout=args.dropout)


def collate(examples, idx, device):
    exs = [examples[i] for i in idx]
    n = max(len(e["ids"]) for e in exs)
    ids = torch.full((len(exs), n), PAD, dtype=torch.long)
    for b, e in enumerate(exs):
        ids[b, : len(e["ids"])] = torch.tensor(e["ids"])
    rows = {k: torch.tensor([e[k] for e in exs], dtype=torch.long, device=device) for k in ("user", "item", "rating")}
    return rows, ids.to(device)


def losses(model, rows, ids, rating_weight):
    """(text loss per target token, the loss to minimise, target tokens)."""
    targets = ids[:, 1:].masked_fill(ids[:, 1:] == PAD, -100)
    if hasattr(model, "lm"):
        logits = model(rows["user"], rows["item"], ids, (ids != PAD).long())
    else:
        logits = model(rows["user"], rows["item"], rows["rating"], ids[:, :-1])
    text = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)
    total = text
    if hasattr(model, "rating") and rating_weight > 0:
        known = rows["rating"] > 0
        if bool(known.any()):
            predicted = model.rating(rows["user"], rows["item"])[known]
            total = total + rating_weight * nn.functional.mse_loss(predicted, rows["rating"][known].float())
    return text, total, int((targets != -100).sum())


@torch.no_grad()
def valid_loss(model, examples, batch_size, device):
    model.eval()
    total, count = 0.0, 0
    for k in range(0, len(examples), batch_size):
        rows, ids = collate(examples, range(k, min(k + batch_size, len(examples))), device)
        text, _, n = losses(model, rows, ids, 0.0)
        total, count = total + float(text) * n, count + n
    model.train()
    return total / max(count, 1)


@torch.no_grad()
def generate(model, examples, tokenizer, max_new_tokens, batch_size, device, no_repeat_ngram_size=3):
    """Greedy explanations, in example order."""
    model.eval()
    texts = []
    for k in range(0, len(examples), batch_size):
        rows, _ = collate(examples, range(k, min(k + batch_size, len(examples))), device)
        if hasattr(model, "lm"):
            out = model.generate(rows["user"], rows["item"], max_new_tokens, no_repeat_ngram_size)
        else:
            out = model.generate(rows["user"], rows["item"], rows["rating"], max_new_tokens, no_repeat_ngram_size)
        texts += [tokenizer.decode(seq, skip_special_tokens=True).strip() for seq in out.tolist()]
    return texts


def run(args):
    t_start = time.time()
    device = torch_device(args.device, args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    train, valid, test, ratings = B.load_splits(args.distilled, args.samples, args.seed, args.max_train_samples,
                                                args.max_valid_samples)
    test = [g for g in B.D.read_jsonl(args.distilled) if g.get("split") == args.test_split] \
        if args.test_split != "test" else test
    if not train:
        raise SystemExit("no training samples in " + args.distilled)
    tokenizer = B.tokenizer_for(train, args.vocab_size)
    users, items = B.D.user_rows(train), B.item_rows(train)
    make = lambda s: B.make_examples(s, tokenizer, users, items, ratings, args.max_target_tokens)  # noqa: E731
    train_ex, valid_ex, test_ex = make(train), make(valid), make(test)
    model = build(args, len(users) + 1, len(items) + 1, tokenizer.get_vocab_size()).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    if not args.quiet:
        print(f"{args.model}: {len(train_ex)} train / {len(valid_ex)} valid / {len(test_ex)} {args.test_split} samples, "
              f"{len(users)} users, {len(items)} items, {n_params / 1e6:.2f}M parameters on {device}", flush=True)

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    steps_per_epoch = math.ceil(len(train_ex) / args.batch_size)
    schedule = Schedule(steps_per_epoch * args.epochs, args.warmup)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    rng = random.Random(args.seed)
    budget = args.max_minutes * 60 if args.max_minutes else None
    best, best_state, history, step, tokens = float("inf"), None, [], 0, 0
    run_start, stopped = time.time(), "epochs"
    model.train()
    for epoch in range(args.epochs):
        plan = make_batches(train_ex, args.batch_size, rng, length_key="ids")
        bar = Progress(len(plan), f"{args.model} epoch {epoch + 1}/{args.epochs}", args.quiet)
        loss_sum, loss_n, out_of_time = 0.0, 0, False
        for bi, idx in enumerate(plan):
            rows, ids = collate(train_ex, idx, device)
            text, total, n = losses(model, rows, ids, args.rating_weight)
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            if args.grad_clip:
                nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
            optimizer.step()
            scheduler.step()
            step, tokens = step + 1, tokens + n
            loss_sum, loss_n = loss_sum + float(text.detach()) * n, loss_n + n
            bar.update(f"loss {loss_sum / loss_n:.3f}")
            elapsed = time.time() - run_start
            if budget and step >= 10 and bi % 10 == 0:
                # Aim the decay at the step where the budget runs out, keeping 8 % for validation (as the
                # student's training does).
                reachable = step + int((budget * 0.92 - elapsed) / (elapsed / step))
                schedule.total = max(step + 1, min(steps_per_epoch * args.epochs, reachable))
            if budget and elapsed > budget * 0.92:
                out_of_time = True
                break
        bar.close()
        loss = valid_loss(model, valid_ex, 2 * args.batch_size, device) if valid_ex else loss_sum / max(loss_n, 1)
        history.append({"epoch": epoch + 1, "steps": step, "train_loss": round(loss_sum / max(loss_n, 1), 4),
                        "valid_loss": round(loss, 4), "partial": out_of_time})
        if loss < best:
            best, best_state = loss, copy.deepcopy(model.state_dict())
        if not args.quiet:
            print(f"{args.model} epoch {epoch + 1}: train loss {history[-1]['train_loss']:.4f}, valid loss {loss:.4f}",
                  flush=True)
        if out_of_time:
            stopped = "time budget"
            break
    train_seconds = time.time() - run_start
    model.load_state_dict(best_state)

    t_gen = time.time()
    texts = generate(model, test_ex, tokenizer, args.max_target_tokens - 1, 64, device, args.no_repeat_ngram_size)
    gen_seconds = time.time() - t_gen
    os.makedirs(args.output, exist_ok=True)
    with open(os.path.join(args.output, "outputs.jsonl"), "w", encoding="utf-8") as f:
        for e, text in zip(test_ex, texts):
            f.write(json.dumps({"sample_id": e["sample_id"], "user_id": e["user_id"], "item_id": e["item_id"],
                                "explanation": text}, ensure_ascii=False) + "\n")
    summary = {"model": args.model, "parameters": n_params, "train_samples": len(train_ex), "users": len(users),
               "items": len(items), "steps": step, "stopped_by": stopped, "valid_loss": round(best, 4),
               "train_seconds": round(train_seconds, 1), "tokens_per_second": round(tokens / max(train_seconds, 1e-9), 1),
               "generated": len(texts), "generation_seconds": round(gen_seconds, 1),
               "total_seconds": round(time.time() - t_start, 1), "device": str(device), "history": history,
               "hyperparameters": {k: getattr(args, k) for k in ("batch_size", "lr", "weight_decay", "warmup", "vocab_size",
                                                                 "max_target_tokens", "d_model", "layers", "dropout",
                                                                 "rating_weight", "no_repeat_ngram_size", "max_minutes", "max_train_samples",
                                                                 "seed")}}
    with open(os.path.join(args.output, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    torch.save({"model": model.state_dict(), "tokenizer": tokenizer.to_str(), "users": users, "items": items,
                "args": vars(args)}, os.path.join(args.output, "model.pt"))
    return summary, list(zip(test_ex, texts))


def main(argv=None):
    args = parse_args(argv)
    summary, outputs = run(args)
    s = summary
    print(f"done: {args.model}, {s['steps']} steps (stopped by {s['stopped_by']}), valid loss {s['valid_loss']:.4f}, "
          f"{s['train_seconds']:.0f}s training, {s['tokens_per_second']:.0f} target tokens/s; "
          f"{s['generated']} explanations in {s['generation_seconds']:.1f}s -> {os.path.join(args.output, 'outputs.jsonl')}")
    for e, text in outputs[:3]:
        print(f"  [{e['user_id']} / {e['item_id']}] {text}")
    return 0
