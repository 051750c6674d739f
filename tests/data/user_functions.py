"""Functions a user might ask `gradcalc check` about (test fixtures): correct
ones, wrong custom backward passes, kinks and NaN traps. Loaded by the tests
as tests/data/user_functions.py:NAME."""

import math

import torch

# ---------------------------------------------------------------- correct


def smooth(x, w):
    return (torch.sin(x) * w).sum() + torch.exp(-(x**2)).mean()


def logsumexp(x):
    return torch.logsumexp(x, dim=0)


def cross_entropy(logits, target):
    return -(target * torch.log_softmax(logits, dim=-1)).sum(dim=-1).mean()


def variance(x):
    return ((x - x.mean()) ** 2).mean()


def elementwise(x):
    """A tensor output: the whole Jacobian is checked."""
    return torch.tanh(x) * x


def matrix(x, w):
    return torch.sigmoid(x @ w)


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2


def cube(x):
    return Cube.apply(x).sum()


class Product(torch.autograd.Function):
    """Two inputs, both gradients right."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * torch.sin(y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        return grad * torch.sin(y), grad * x * torch.cos(y)


def product(x, y):
    return Product.apply(x, y).sum()


torch.manual_seed(0)
LAYER = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))


def layer(x):
    """A small layer, its weights float32 as nn.Linear makes them."""
    return LAYER(x).pow(2).sum()


def float32_code(x):
    """Code written for float32: it casts its input down."""
    y = x.float()
    return (torch.sin(y) * torch.exp(y / 3)).sum()


# ---------------------------------------------------------------- wrong backward passes


class MissingFactor(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x  # d(x**2)/dx is 2x


def missing_factor(x):
    return MissingFactor.apply(x).sum()


class WrongSign(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.cos(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * torch.sin(x)  # d cos(x)/dx is -sin(x)


def wrong_sign(x):
    return WrongSign.apply(x).sum()


class WrongInput(torch.autograd.Function):
    """x*y: the gradient of y is right, x's is y's."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad):
        x, _y = ctx.saved_tensors
        return grad * x, grad * x  # x's gradient should be grad * y


def wrong_input(x, y):
    return WrongInput.apply(x, y).sum()


class Slip(torch.autograd.Function):
    """exp: right everywhere but in one element, 0.1% off."""

    @staticmethod
    def forward(ctx, x):
        out = torch.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        result = grad * out
        result[2] = result[2] * 1.001
        return result


def slip(x):
    return Slip.apply(x).sum()


# ---------------------------------------------------------------- kinks


def maximum(x, y):
    return torch.maximum(x, y).sum()


def relu(x):
    return torch.relu(x).sum()


def absolute(x):
    return torch.abs(x).sum()


def clamp(x):
    return torch.clamp(x, -1.0, 1.0).sum()


# ---------------------------------------------------------------- NaN traps


def norm(x):
    return torch.sqrt((x**2).sum())


def where_trap(x):
    return torch.where(x > 0, torch.sqrt(x), torch.zeros_like(x)).sum()


def double_where(x):
    safe = torch.where(x > 0, x, torch.ones_like(x))
    return torch.where(x > 0, torch.sqrt(safe), torch.zeros_like(x)).sum()


# ---------------------------------------------------------------- bad use


NOT_CALLABLE = 3


def returns_number(x):
    return 1.5


def raises(x):
    return helper(x)


def helper(x):
    return x / math.nan if x.sum() > 1e9 else torch.linalg.inv(x)


MODULE = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Tanh())  # called as MODULE(input)


def log_of(x):
    return torch.log(x).sum()


def endless(x):
    while True:
        x = x + 1


def float32_only(x):
    """float32 code that refuses float64: it cannot be widened, and is judged in float32."""
    if x.dtype != torch.float32:
        raise TypeError("float32 only")
    return torch.logsumexp(x * 10, 0) + (torch.sin(x) * torch.exp(x / 3)).sum()
