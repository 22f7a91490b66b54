"""Tabular regression: an MLP with input standardisation held in buffers, AdamW with a
hand-written warmup (editing ``optimizer.param_groups``) followed by ReduceLROnPlateau,
``view``/``type_as`` in the loss, gradient clipping, a training checkpoint (model, optimizer
and epoch in one file) and a resume from it.

Written as an ordinary PyTorch training script on generated data:
y = sin(3 x0) + x1 x2 + noise, with float64 targets (hence ``type_as``).

    python tests/dropin/regression.py --epochs 8
"""
import argparse
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import ReduceLROnPlateau
from torch.utils.data import DataLoader, TensorDataset


class Standardize(nn.Module):
    """Subtracts the training inputs' mean and divides by their standard deviation."""

    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, x):
        return (x - self.mean) / self.std

    def extra_repr(self):
        return f"features={self.mean.numel()}"


class MLP(nn.Module):
    def __init__(self, in_features, hidden, mean, std):
        super().__init__()
        self.standardize = Standardize(mean, std)
        self.body = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.Tanh(),
            nn.Linear(hidden, hidden),
            nn.Tanh(),
        )
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.head(self.body(self.standardize(x)))


def make_data(num_samples, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1.5, 1.5, (num_samples, 3)).astype(np.float32)
    y = np.sin(3 * x[:, 0]) + x[:, 1] * x[:, 2] + 0.05 * rng.standard_normal(num_samples)
    return x, y  # y is float64, as targets read from a file often are


def run_epoch(model, loader, device, optimizer=None, warmup=None, clip=None):
    """One pass over ``loader``; trains when an optimizer is given. Returns the mean loss."""
    training = optimizer is not None
    model.train(training)
    total, count = 0.0, 0
    with torch.set_grad_enabled(training):
        for x, target in loader:
            x, target = x.to(device), target.to(device)
            pred = model(x)
            loss = F.mse_loss(pred.view(-1), target.type_as(pred))
            if training:
                if warmup is not None:
                    warmup()
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), clip)
                optimizer.step()
            total += loss.item() * len(x)
            count += x.size(0)
    return total / count


def main(argv=None):
    parser = argparse.ArgumentParser(description='MLP regression')
    parser.add_argument('--epochs', type=int, default=8)
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--lr', type=float, default=1e-2)
    parser.add_argument('--warmup-steps', type=int, default=20)
    parser.add_argument('--clip', type=float, default=1.0)
    parser.add_argument('--hidden', type=int, default=32)
    parser.add_argument('--workers', type=int, default=1)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--checkpoint', default=None, help='training checkpoint path')
    parser.add_argument('--save-init', default=None, help='write the initial weights (.npz)')
    parser.add_argument('--load-init', default=None, help='start from these weights (.npz)')
    parser.add_argument('--quiet', action='store_true', default=False)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    use_cuda = torch.cuda.is_available()
    device = torch.device("cuda" if use_cuda else "cpu")

    x_train, y_train = make_data(640, args.seed)
    x_val, y_val = make_data(200, args.seed + 1)
    train_set = TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train))
    val_set = TensorDataset(torch.from_numpy(x_val), torch.from_numpy(y_val))
    loader_kwargs = {'num_workers': args.workers, 'pin_memory': use_cuda,
                     'persistent_workers': args.workers > 0}
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, **loader_kwargs)
    val_loader = DataLoader(val_set, batch_size=100, shuffle=False)

    inputs = torch.tensor(x_train)
    model = MLP(3, args.hidden, inputs.mean(dim=0), inputs.std(dim=0)).to(device)
    if args.load_init:
        weights = np.load(args.load_init)
        model.load_state_dict({name: torch.from_numpy(weights[name]) for name in weights.files})
    if args.save_init:
        np.savez(args.save_init, **{name: tensor.cpu().numpy()
                                    for name, tensor in model.state_dict().items()})
    # Start the output at the targets' mean with a small last layer.
    with torch.no_grad():
        model.head.weight.mul_(0.1)
        model.head.bias.copy_(torch.tensor([y_train.mean()]))
    if not args.quiet:
        print(model)

    optimizer = optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    scheduler = ReduceLROnPlateau(optimizer, mode='min', factor=0.5, patience=1)
    step = 0

    def warmup():
        nonlocal step
        step += 1
        if step <= args.warmup_steps:
            for group in optimizer.param_groups:
                group['lr'] = args.lr * step / args.warmup_steps

    checkpoint = args.checkpoint or os.path.join(tempfile.mkdtemp(), 'checkpoint.pt')
    history = {"train_loss": [], "val_loss": [], "lr": []}
    best = float('inf')
    for epoch in range(1, args.epochs + 1):
        train_loss = run_epoch(model, train_loader, device, optimizer, warmup, args.clip)
        val_loss = run_epoch(model, val_loader, device)
        scheduler.step(val_loss)
        history["train_loss"].append(train_loss)
        history["val_loss"].append(val_loss)
        history["lr"].append(optimizer.param_groups[0]['lr'])
        if val_loss < best:
            best = val_loss
            torch.save({'epoch': epoch, 'model_state_dict': model.state_dict(),
                        'optimizer_state_dict': optimizer.state_dict(), 'loss': val_loss},
                       checkpoint)
        if not args.quiet:
            print(f'epoch {epoch}: train {train_loss:.4f} val {val_loss:.4f} '
                  f'lr {optimizer.param_groups[0]["lr"]:.2e}')

    # Resume from the best checkpoint in a fresh model and optimizer, as after a restart.
    restored = MLP(3, args.hidden, torch.zeros(3), torch.ones(3)).to(device)
    restored_optimizer = optim.AdamW(restored.parameters(), lr=args.lr, weight_decay=1e-4)
    state = torch.load(checkpoint)
    restored.load_state_dict(state['model_state_dict'])
    restored_optimizer.load_state_dict(state['optimizer_state_dict'])
    history["best_epoch"] = state['epoch']
    history["restored_val_loss"] = run_epoch(restored.eval(), val_loader, device)
    history["restored_lr"] = restored_optimizer.param_groups[0]['lr']

    with torch.inference_mode():
        sample = torch.from_numpy(x_val[:3])
        predictions = restored(sample).view(-1)
    if not args.quiet:
        print('predictions:', predictions, 'targets:', y_val[:3])
    history["predictions"] = predictions.tolist()
    history["model"] = model
    return history


if __name__ == '__main__':
    main()
