"""A small real training logged with Heron: logistic regression in numpy on a synthetic problem.

    python examples/python/logistic_regression.py --lr 0.5 --epochs 20

Runs against the server at HERON_BASE_URL (default http://127.0.0.1:8745) with the key from
HERON_API_KEY or the credentials file written by `heron server` / `heron login`; pass
--offline to log locally and upload later with `heron sync`. The code is plain wandb code:
only the import differs.
"""

import argparse
import os
import tempfile

import numpy as np

import heron as wandb


def make_data(n: int, true_w: np.ndarray, rng: np.random.Generator):
    x = rng.normal(size=(n, len(true_w)))
    logits = x @ true_w + 0.5 * rng.normal(size=n)
    return x, (logits > 0).astype(np.float64)


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lr", type=float, default=0.5)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--project", default="examples")
    parser.add_argument("--offline", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    true_w = rng.normal(size=args.features)
    x_train, y_train = make_data(5000, true_w, rng)
    x_val, y_val = make_data(1000, true_w, rng)

    run = wandb.init(project=args.project, config=args, tags=["numpy", "logreg"], mode="offline" if args.offline else None)
    wandb.define_metric("epoch")
    wandb.define_metric("val/*", step_metric="epoch", summary="best", goal="maximize")
    wandb.define_metric("train/loss", summary="min")

    w = np.zeros(args.features)
    b = 0.0
    for epoch in range(args.epochs):
        order = rng.permutation(len(y_train))
        for start in range(0, len(order), args.batch_size):
            idx = order[start : start + args.batch_size]
            p = 1 / (1 + np.exp(-(x_train[idx] @ w + b)))
            err = p - y_train[idx]
            w -= args.lr * x_train[idx].T @ err / len(idx)
            b -= args.lr * err.mean()
            wandb.log({"train/loss": log_loss(p, y_train[idx]), "train/grad_norm": np.linalg.norm(x_train[idx].T @ err) / len(idx)})
        p_val = 1 / (1 + np.exp(-(x_val @ w + b)))
        val_acc = float(np.mean((p_val > 0.5) == (y_val > 0.5)))
        wandb.log({"epoch": epoch, "val/loss": log_loss(p_val, y_val), "val/acc": val_acc})
        print(f"epoch {epoch + 1}/{args.epochs}: val_acc={val_acc:.3f}")

    weights = os.path.join(tempfile.mkdtemp(), "weights.npy")
    np.save(weights, np.append(w, b))
    wandb.save(weights, policy="now")
    run.summary["final_val_acc"] = val_acc
    wandb.finish()
    print(f"logged run {run.id} into the project {run.project!r}" + (" (offline)" if args.offline else ""))


if __name__ == "__main__":
    main()
