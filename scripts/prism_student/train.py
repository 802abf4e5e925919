"""Fine-tunes (or trains from scratch) the user-aware BART student on distilled goldens; see
scripts/train_student.py for the command line."""
import argparse
import json
import math
import os
import random
import sys
import time
from collections import Counter

import torch

from . import data as D
from .export import export
from .input_format import FORMAT_NAME
from .model import PrismStudent, load_bart, new_bart, small_config
from .tokenizer import load_tokenizer, train_bpe

try:
    from tqdm import tqdm
except ImportError:  # pragma: no cover
    tqdm = None


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        prog="train_student.py",
        description="Train the Prism student (user-aware BART) on distilled.jsonl and export the folder the Swift "
                    "worker loads.")
    ap.add_argument("--distilled", required=True, help="distilled.jsonl (sample_id, user_id, item_id, history, "
                                                        "split, teacher_id, explanation)")
    ap.add_argument("--catalog", required=True, help="catalog.jsonl of the prepared data folder")
    ap.add_argument("--output", required=True, help="export folder (checkpoints go to OUTPUT/checkpoints)")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--init", metavar="HF_BART_FOLDER", help="fine-tune these weights (and their tokenizer)")
    src.add_argument("--from-scratch", action="store_true", help="small random BART + a BPE tokenizer trained here "
                                                                 "(the default when --init is not given)")
    g = ap.add_argument_group("from-scratch model")
    g.add_argument("--d-model", type=int, default=256)
    g.add_argument("--encoder-layers", type=int, default=3)
    g.add_argument("--decoder-layers", type=int, default=3)
    g.add_argument("--heads", type=int, default=4)
    g.add_argument("--ffn", type=int, default=1024)
    g.add_argument("--vocab-size", type=int, default=4096, help="BPE vocabulary size (trained on inputs + goldens)")
    g.add_argument("--dropout", type=float, default=0.1)
    g.add_argument("--copy", action="store_true", help="a copying student (copying.py, Sources/BART/COPYING.md): "
                                                       "the next token mixes generating and copying input tokens")
    g = ap.add_argument_group("data")
    g.add_argument("--max-input-tokens", type=int, default=256,
                   help="input budget in tokenizer ids incl. <s> </s>: oldest history items dropped whole")
    g.add_argument("--max-target-tokens", type=int, default=64, help="target ids incl. <s> </s>")
    g.add_argument("--max-train-samples", type=int, default=None)
    g.add_argument("--max-valid-samples", type=int, default=200)
    g.add_argument("--no-user", action="store_true", help='ablation "Prism w/o User": no user table is trained '
                                                          "or exported (Swift serves every user cold)")
    g.add_argument("--user-init-std", type=float, default=0.02)
    g.add_argument("--marks", choices=("auto", "on", "off"), default="auto",
                   help="train on the goldens' grounding marks (GROUNDING.md) so the Swift worker can decode entity "
                        "spans under constraints; auto: on when every sample has a 'marked' golden")
    g = ap.add_argument_group("optimisation")
    g.add_argument("--epochs", type=int, default=10)
    g.add_argument("--batch-size", type=int, default=16)
    g.add_argument("--lr", type=float, default=None, help="peak learning rate (default 1e-3 from scratch, 5e-5 "
                                                           "with --init)")
    g.add_argument("--weight-decay", type=float, default=0.01)
    g.add_argument("--warmup", type=float, default=0.06, help="warm-up steps (>= 1) or fraction of all steps")
    g.add_argument("--grad-clip", type=float, default=1.0)
    g.add_argument("--patience", type=int, default=3, help="early stopping: epochs without a better valid loss")
    g.add_argument("--max-minutes", type=float, default=None,
                   help="stop cleanly after this much training time (the schedule adapts its horizon to it)")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--resume", action="store_true", help="continue from OUTPUT/checkpoints/last.pt")
    g.add_argument("--device", default="auto", help="auto (cuda when present), cpu, cuda")
    g.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    g = ap.add_argument_group("export")
    g.add_argument("--num-beams", type=int, default=1, help="generation default written to config.json")
    g.add_argument("--no-repeat-ngram-size", type=int, default=3)
    g.add_argument("--show", type=int, default=3, help="sample generations printed at the end")
    g.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    if args.lr is None:
        args.lr = 5e-5 if args.init else 1e-3
    return args


class Progress:
    """A tqdm bar on a terminal; otherwise (logs, pipes) a plain line every few seconds."""

    def __init__(self, total, desc, quiet=False):
        self.quiet, self.total, self.desc, self.n = quiet, total, desc, 0
        tty = sys.stderr.isatty()
        self.bar = tqdm(total=total, desc=desc, dynamic_ncols=True, file=sys.stderr) if (tqdm and tty and not quiet) else None
        self.last = time.time()
        self.postfix = ""

    def update(self, postfix):
        self.n += 1
        if self.bar is not None:
            self.bar.set_postfix_str(postfix, refresh=False)
            self.bar.update(1)
        elif not self.quiet and (time.time() - self.last > 15 or self.n == self.total):
            self.last = time.time()
            print(f"{self.desc} {self.n}/{self.total} {postfix}", file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def log(args, *msg):
    if not args.quiet:
        print(*msg, file=sys.stderr, flush=True)


def seed_all(seed):
    random.seed(seed)
    torch.manual_seed(seed)


def make_batches(examples, batch_size, rng, length_key="input_ids"):
    """Shuffled batches of similar lengths of `length_key` (sorted within chunks of 50 batches), in random order."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    chunk = batch_size * 50
    batches = []
    for i in range(0, len(order), chunk):
        part = sorted(order[i:i + chunk], key=lambda j: len(examples[j][length_key]))
        batches += [part[k:k + batch_size] for k in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches


def collate(examples, idx, device, pad=1):
    exs = [examples[i] for i in idx]
    n_in = max(len(e["input_ids"]) for e in exs)
    n_out = max(len(e["labels"]) for e in exs)
    ids = torch.full((len(exs), n_in), pad, dtype=torch.long)
    mask = torch.zeros((len(exs), n_in), dtype=torch.long)
    labels = torch.full((len(exs), n_out), -100, dtype=torch.long)
    for b, e in enumerate(exs):
        ids[b, : len(e["input_ids"])] = torch.tensor(e["input_ids"])
        mask[b, : len(e["input_ids"])] = 1
        labels[b, : len(e["labels"])] = torch.tensor(e["labels"])
    rows = torch.tensor([e["user_row"] for e in exs], dtype=torch.long)
    tokens = int(mask.sum()) + int((labels != -100).sum())
    return ids.to(device), mask.to(device), labels.to(device), rows.to(device), tokens


@torch.no_grad()
def evaluate(student, examples, batch_size, device):
    student.eval()
    total, count = 0.0, 0
    for k in range(0, len(examples), batch_size):
        ids, mask, labels, rows, _ = collate(examples, range(k, min(k + batch_size, len(examples))), device)
        out = student(ids, mask, labels, rows)
        n = int((labels != -100).sum())
        total += float(out.loss) * n
        count += n
    student.train()
    return total / max(count, 1)


class Schedule:
    """Linear warm-up then linear decay to 0 at `total` steps; `total` may be re-estimated (time budget)."""

    def __init__(self, total, warmup):
        self.total = max(1, total)
        self.warmup_arg = warmup

    def warmup(self):
        w = self.warmup_arg if self.warmup_arg >= 1 else self.warmup_arg * self.total
        return max(1, int(w))

    def __call__(self, step):
        w = self.warmup()
        if step < w:
            return (step + 1) / w
        return max(0.0, (self.total - step) / max(1, self.total - w))


def build(args, train_samples, catalog, device):
    """(student, tokenizer, rows, init description) for a new run."""
    rows = {} if args.no_user else D.user_rows(train_samples)
    if args.init:
        tokenizer = load_tokenizer(args.init)
        bart = load_bart(args.init, copy=args.copy)
        if args.marks == "on":
            from tokenizers import AddedToken
            from .grounding_marks import MARKS
            tokenizer.add_special_tokens([AddedToken(m, special=True, normalized=False) for m in MARKS])
            if tokenizer.get_vocab_size() > bart.config.vocab_size:
                bart.resize_token_embeddings(tokenizer.get_vocab_size())
        need = max(args.max_input_tokens, args.max_target_tokens + 1)
        if bart.config.max_position_embeddings < need:
            raise SystemExit(f"--init model has {bart.config.max_position_embeddings} positions, needs {need}")
        bart.config.dropout = args.dropout if args.dropout is not None else bart.config.dropout
        init = {"kind": "init", "folder": os.path.abspath(args.init)}
    else:
        t0 = time.time()
        tokenizer = train_bpe(D.corpus_texts(train_samples, catalog), vocab_size=args.vocab_size, marks=args.marks == "on")
        log(args, f"tokenizer: {tokenizer.get_vocab_size()} tokens trained in {time.time() - t0:.1f}s")
        config = small_config(tokenizer.get_vocab_size(), args.d_model, args.encoder_layers, args.decoder_layers,
                              args.heads, args.ffn, max(args.max_input_tokens, args.max_target_tokens + 1),
                              args.dropout, copy=args.copy)
        bart = new_bart(config, seed=args.seed)
        init = {"kind": "from-scratch", "d_model": args.d_model, "encoder_layers": args.encoder_layers,
                "decoder_layers": args.decoder_layers, "heads": args.heads, "ffn": args.ffn,
                "vocab_size": tokenizer.get_vocab_size(), "copy": bool(args.copy)}
    if hasattr(bart, "set_copy_twins"):
        bart.set_copy_twins(tokenizer)
    torch.manual_seed(args.seed + 1)
    student = PrismStudent(bart, len(rows), with_users=not args.no_user, init_std=args.user_init_std)
    if args.init and not args.no_user:
        _copy_init_users(student, args.init, rows)
    return student.to(device), tokenizer, rows, init


def _copy_init_users(student, folder, rows):
    """Users present in both the --init folder's users.json and this training set keep their vectors."""
    table_path, users_path = os.path.join(folder, "user_embeddings.safetensors"), os.path.join(folder, "users.json")
    if not (os.path.exists(table_path) and os.path.exists(users_path)):
        return
    from safetensors.torch import load_file
    table = load_file(table_path)["user_embeddings"]
    if table.shape[1] != student.users.weight.shape[1]:
        return
    old = json.load(open(users_path))
    with torch.no_grad():
        for user, row in rows.items():
            if user in old and 0 < int(old[user]) < table.shape[0]:
                student.users.weight[row].copy_(table[int(old[user])])


def param_groups(student, weight_decay):
    decay, no_decay = [], []
    for name, p in student.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.dim() < 2 or "norm" in name else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def torch_device(choice, threads=0):
    """The device for --device (auto: cuda when present, else cpu), after setting --threads for the CPU."""
    if threads:
        torch.set_num_threads(threads)
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(choice)


def run(args):
    t_start = time.time()
    device = torch_device(args.device, args.threads)
    seed_all(args.seed)
    samples = D.read_jsonl(args.distilled)
    catalog = D.load_catalog(args.catalog)
    if args.marks == "auto":
        args.marks = "on" if samples and all("marked" in s for s in samples) else "off"
    train_samples, valid_samples = D.split_samples(samples, seed=args.seed)
    train_samples = D.training_subset(train_samples, args.max_train_samples, seed=args.seed)
    if args.max_valid_samples:
        valid_samples = valid_samples[: args.max_valid_samples]
    ckpt_dir = os.path.join(args.output, "checkpoints")
    os.makedirs(ckpt_dir, exist_ok=True)
    last_path, best_path = os.path.join(ckpt_dir, "last.pt"), os.path.join(ckpt_dir, "best.pt")

    state = None
    if args.resume:
        if not os.path.exists(last_path):
            raise SystemExit(f"--resume: no checkpoint at {last_path}")
        state = torch.load(last_path, map_location="cpu", weights_only=False)
        from tokenizers import Tokenizer
        from transformers import BartConfig
        tokenizer = Tokenizer.from_str(state["tokenizer"])
        rows = state["rows"]
        config = BartConfig.from_dict(state["config"])
        config._attn_implementation = "eager"
        student = PrismStudent(new_bart(config), len(rows), with_users=state["with_users"])
        student.load_state_dict(state["model"])
        student.to(device)
        init = state["init"]
        args.no_user = not state["with_users"]
        args.marks = "on" if state.get("marks") else "off"
        log(args, f"resuming after epoch {state['epoch']} (step {state['step']})")
    else:
        student, tokenizer, rows, init = build(args, train_samples, catalog, device)

    t0 = time.time()
    marks = args.marks == "on"
    train_ex = D.make_examples(train_samples, catalog, tokenizer, rows, args.max_input_tokens, args.max_target_tokens,
                               marks=marks)
    valid_ex = D.make_examples(valid_samples, catalog, tokenizer, rows, args.max_input_tokens, args.max_target_tokens,
                               with_text=True, marks=marks)
    if not train_ex:
        raise SystemExit("no training samples")
    n_params = sum(p.numel() for p in student.parameters())
    log(args, f"data: {len(train_ex)} train / {len(valid_ex)} valid samples, {len(rows)} users, "
              f"mean input {sum(len(e['input_ids']) for e in train_ex) / len(train_ex):.0f} tokens "
              f"(history dropped: {sum(e['dropped'] for e in train_ex) / len(train_ex):.1f} items on average), "
              f"prepared in {time.time() - t0:.1f}s; model {n_params / 1e6:.2f}M parameters on {device}")

    optimizer = torch.optim.AdamW(param_groups(student, args.weight_decay), lr=args.lr, betas=(0.9, 0.98), eps=1e-8)
    steps_per_epoch = math.ceil(len(train_ex) / args.batch_size)
    schedule = Schedule(steps_per_epoch * args.epochs, args.warmup)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    epoch, step, best, bad_epochs, history = 0, 0, float("inf"), 0, []
    train_time, train_tokens = 0.0, 0
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        schedule.total = state["schedule_total"]
        if schedule.total <= state["step"] + 1:
            # The previous run decayed to 0 (time budget): re-plan the horizon for this run's epochs (warm restart).
            schedule.total = steps_per_epoch * args.epochs
        scheduler.load_state_dict(state["scheduler"])
        epoch, step, best, bad_epochs = state["epoch"], state["step"], state["best"], state["bad_epochs"]
        history, train_time, train_tokens = state["history"], state["train_time"], state["train_tokens"]
        random.setstate(state["py_rng"])
        torch.set_rng_state(state["torch_rng"])
    rng = random.Random(args.seed * 1000 + epoch)

    budget_s = args.max_minutes * 60 if args.max_minutes else None
    run_start = time.time()
    stopped = "epochs"
    student.train()
    while epoch < args.epochs:
        batches = make_batches(train_ex, args.batch_size, rng)
        bar = Progress(len(batches), f"epoch {epoch + 1}/{args.epochs}", args.quiet)
        loss_sum, loss_tokens, out_of_time = 0.0, 0, False
        epoch_start = time.time()
        for bi, idx in enumerate(batches):
            ids, mask, labels, rows_t, tokens = collate(train_ex, idx, device)
            out = student(ids, mask, labels, rows_t)
            optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            if args.grad_clip:
                torch.nn.utils.clip_grad_norm_(student.parameters(), args.grad_clip)
            optimizer.step()
            scheduler.step()
            step += 1
            n = int((labels != -100).sum())
            loss_sum += float(out.loss.detach()) * n
            loss_tokens += n
            train_tokens += tokens
            bar.update(f"loss {loss_sum / loss_tokens:.3f} lr {scheduler.get_last_lr()[0]:.2e}")
            elapsed = time.time() - run_start
            if budget_s and step >= 10 and bi % 10 == 0:
                # Re-aim the decay at the step where the time budget runs out (keeps ~8% for validation).
                done_here = step - (state["step"] if state else 0)
                reachable = step + int((budget_s * 0.92 - elapsed) / (elapsed / max(done_here, 1)))
                schedule.total = max(step + 1, min(steps_per_epoch * args.epochs, reachable))
            if budget_s and elapsed > budget_s * 0.92:
                out_of_time = True
                break
        bar.close()
        train_time += time.time() - epoch_start
        epoch += 1
        valid_loss = evaluate(student, valid_ex, args.batch_size * 2, device) if valid_ex else loss_sum / loss_tokens
        history.append({"epoch": epoch, "steps": step, "train_loss": round(loss_sum / max(loss_tokens, 1), 4),
                        "valid_loss": round(valid_loss, 4), "partial": out_of_time})
        improved = valid_loss < best - 1e-4
        if improved:
            best, bad_epochs = valid_loss, 0
            torch.save({"model": student.state_dict(), "epoch": epoch}, best_path)
        else:
            bad_epochs += 1
        log(args, f"epoch {epoch}: train loss {history[-1]['train_loss']:.4f}, valid loss {valid_loss:.4f}"
                  f"{' (best)' if improved else ''}, {time.time() - epoch_start:.0f}s")
        torch.save({
            "model": student.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "schedule_total": schedule.total, "epoch": epoch, "step": step, "best": best, "bad_epochs": bad_epochs,
            "history": history, "train_time": train_time, "train_tokens": train_tokens,
            "tokenizer": tokenizer.to_str(), "rows": rows, "with_users": not args.no_user, "marks": marks,
            "config": student.config.to_dict(), "init": init, "py_rng": random.getstate(),
            "torch_rng": torch.get_rng_state(),
        }, last_path)
        if out_of_time:
            stopped = "time budget"
            break
        if bad_epochs >= args.patience:
            stopped = "early stopping"
            break

    best_state = torch.load(best_path, map_location="cpu", weights_only=False)
    student.load_state_dict(best_state["model"])
    student.eval()
    if student.users is not None:
        assert torch.count_nonzero(student.users.weight[0]) == 0
    summary = {
        "epochs": epoch, "steps": step, "best_epoch": best_state["epoch"], "stopped_by": stopped,
        "train_loss": history[-1]["train_loss"], "valid_loss": round(best, 4),
        "train_seconds": round(train_time, 1), "total_seconds": round(time.time() - t_start, 1),
        "tokens_per_second": round(train_tokens / max(train_time, 1e-9), 1),
        "train_samples": len(train_ex), "valid_samples": len(valid_ex), "parameters": n_params,
        "device": str(device), "history": history,
    }
    samples_out = []
    if valid_ex and args.show:
        from .export import generation_defaults
        gen = generation_defaults(args.max_target_tokens, 1, args.no_repeat_ngram_size)
        for e in valid_ex[: args.show]:
            ids, mask, _, rows_t, _ = collate(valid_ex, [valid_ex.index(e)], device)
            gen.pop("early_stopping", None)
            seq = student.generate(ids, mask, rows_t, do_sample=False, **gen)[0].tolist()
            samples_out.append({"user_id": e["user_id"], "generated": tokenizer.decode(seq, skip_special_tokens=True),
                                "golden": e["explanation"]})
    summary["samples"] = samples_out
    teacher_ids = Counter(s.get("teacher_id") for s in samples)
    extra = {
        "training": summary,
        "data": {"distilled": os.path.abspath(args.distilled), "distilled_sha256": D.sha256_file(args.distilled),
                 "catalog": os.path.abspath(args.catalog), "catalog_sha256": D.sha256_file(args.catalog),
                 "teacher_ids": dict(teacher_ids)},
        "init": init,
        "hyperparameters": {k: getattr(args, k) for k in ("epochs", "batch_size", "lr", "weight_decay", "warmup",
                                                          "grad_clip", "patience", "seed", "max_train_samples",
                                                          "max_minutes", "dropout")},
    }
    if marks:
        from .grounding_marks import FORMAT_NAME as MARKS_FORMAT
        extra["grounding"] = {"format": MARKS_FORMAT}
    export(student.cpu(), tokenizer, rows, args.output, max_input_tokens=args.max_input_tokens,
           max_target_tokens=args.max_target_tokens, manifest_extra=extra, num_beams=args.num_beams,
           no_repeat_ngram_size=args.no_repeat_ngram_size, goldens=[s["explanation"] for s in train_samples])
    assert FORMAT_NAME == "student-input/1"
    return summary


def main(argv=None):
    args = parse_args(argv)
    summary = run(args)
    s = summary
    print(f"done: {s['epochs']} epochs ({s['steps']} steps, stopped by {s['stopped_by']}), best epoch {s['best_epoch']}, "
          f"train loss {s['train_loss']:.4f}, valid loss {s['valid_loss']:.4f}, {s['train_seconds']:.0f}s training "
          f"({s['total_seconds']:.0f}s total), {s['tokens_per_second']:.0f} tokens/s on {s['device']}")
    for x in s["samples"]:
        print(f"  [{x['user_id']}] {x['generated']}\n      golden: {x['golden']}")
    print(f"exported to {args.output}")
    return 0
