# w = w - lr * w.grad inside a training function.
import torch

def train(w, xs, ys, lr=0.01):
    for x, y in zip(xs, ys):
        l = (w * x - y) ** 2
        l.backward()
        w = w - lr * w.grad
    return w

w = torch.tensor(1.0, requires_grad=True)
w = train(w, [1.0, 2.0], [2.0, 4.0])
print(w)
