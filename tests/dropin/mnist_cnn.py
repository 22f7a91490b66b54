"""MNIST-style digit classifier: a small CNN with Dropout, log_softmax + nll_loss, Adadelta and
StepLR, an accuracy loop, and a saved state dict.

Written as an ordinary PyTorch training script. The images are generated (ten noisy,
randomly shifted digit-like prototypes) so that it runs anywhere in a few seconds.

    python tests/dropin/mnist_cnn.py --epochs 3
"""
import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

IMAGE_SIZE = 12
NUM_CLASSES = 10


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(16 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, NUM_CLASSES)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


def synthetic_digits(num_samples, seed):
    """Images of shape (N, 1, 12, 12), normalised like MNIST, and int64 labels: one of ten
    fixed random patterns per class, shifted by up to 2 pixels, plus noise."""
    patterns = np.random.default_rng(0).random((NUM_CLASSES, IMAGE_SIZE + 2, IMAGE_SIZE + 2))
    prototypes = (patterns > 0.6).astype(np.float32)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, NUM_CLASSES, num_samples)
    dy, dx = rng.integers(0, 3, (2, num_samples, 1, 1))
    pixels = np.arange(IMAGE_SIZE)
    images = prototypes[labels[:, None, None], dy + pixels[:, None], dx + pixels]
    images = np.clip(images + 0.3 * rng.standard_normal(images.shape), 0, 1)
    images = (images - 0.1307) / 0.3081
    return images[:, None].astype(np.float32), labels.astype(np.int64)


def train(args, model, device, train_loader, optimizer, epoch, history):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        history["train_loss"].append(loss.item())
        if batch_idx % args.log_interval == 0 and not args.quiet:
            print('Train Epoch: {} [{}/{} ({:.0f}%)]\tLoss: {:.6f}'.format(
                epoch, batch_idx * len(data), len(train_loader.dataset),
                100. * batch_idx / len(train_loader), loss.item()))


def test(model, device, test_loader, history, quiet):
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()  # sum up batch loss
            pred = output.argmax(dim=1, keepdim=True)  # get the index of the max log-probability
            correct += pred.eq(target.view_as(pred)).sum().item()

    test_loss /= len(test_loader.dataset)
    history["test_loss"].append(test_loss)
    history["accuracy"].append(correct / len(test_loader.dataset))
    if not quiet:
        print('\nTest set: Average loss: {:.4f}, Accuracy: {}/{} ({:.0f}%)\n'.format(
            test_loss, correct, len(test_loader.dataset),
            100. * correct / len(test_loader.dataset)))


def main(argv=None):
    parser = argparse.ArgumentParser(description='MNIST-style example')
    parser.add_argument('--batch-size', type=int, default=16)
    parser.add_argument('--test-batch-size', type=int, default=100)
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--lr', type=float, default=1.0)
    parser.add_argument('--gamma', type=float, default=0.7)
    parser.add_argument('--no-cuda', action='store_true', default=False)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--log-interval', type=int, default=5)
    parser.add_argument('--train-size', type=int, default=512)
    parser.add_argument('--test-size', type=int, default=200)
    parser.add_argument('--save-model', default=None, help='path of the saved state dict')
    parser.add_argument('--save-init', default=None, help='write the initial weights (.npz)')
    parser.add_argument('--load-init', default=None, help='start from these weights (.npz)')
    parser.add_argument('--quiet', action='store_true', default=False)
    args = parser.parse_args(argv)
    use_cuda = not args.no_cuda and torch.cuda.is_available()

    torch.manual_seed(args.seed)

    device = torch.device("cuda" if use_cuda else "cpu")

    train_kwargs = {'batch_size': args.batch_size, 'shuffle': True}
    test_kwargs = {'batch_size': args.test_batch_size}
    if use_cuda:
        cuda_kwargs = {'num_workers': 1, 'pin_memory': True}
        train_kwargs.update(cuda_kwargs)
        test_kwargs.update(cuda_kwargs)

    train_images, train_labels = synthetic_digits(args.train_size, seed=args.seed)
    test_images, test_labels = synthetic_digits(args.test_size, seed=args.seed + 1000)
    dataset1 = TensorDataset(torch.from_numpy(train_images), torch.from_numpy(train_labels))
    dataset2 = TensorDataset(torch.from_numpy(test_images), torch.from_numpy(test_labels))
    train_loader = DataLoader(dataset1, **train_kwargs)
    test_loader = DataLoader(dataset2, **test_kwargs)

    model = Net().to(device)
    if args.load_init:
        weights = np.load(args.load_init)
        model.load_state_dict({name: torch.from_numpy(weights[name]) for name in weights.files})
    if args.save_init:
        np.savez(args.save_init, **{name: tensor.cpu().numpy()
                                    for name, tensor in model.state_dict().items()})
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)

    history = {"train_loss": [], "test_loss": [], "accuracy": [], "lr": []}
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch, history)
        test(model, device, test_loader, history, args.quiet)
        history["lr"].append(scheduler.get_last_lr()[0])
        scheduler.step()

    if args.save_model:
        torch.save(model.state_dict(), args.save_model)
    history["model"] = model
    return history


if __name__ == '__main__':
    main()
