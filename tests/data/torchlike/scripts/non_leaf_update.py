import torch

w = torch.tensor([1.0], requires_grad=True)
for x, y in [(1.0, 2.0), (2.0, 4.0)]:
    l = (x * w - y) ** 2
    l.backward()
    print(w.grad, w.is_leaf)
    w = w - 0.01 * w.grad
    print(w)
    w.grad.data.zero_()
