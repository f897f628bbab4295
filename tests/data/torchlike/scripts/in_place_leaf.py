import torch

w = torch.tensor([1.0], requires_grad=True)
l = (2.0 * w - 4.0) ** 2
l.backward()
try:
    w -= 0.01 * w.grad
except RuntimeError as error:
    print("caught:", error)
w.data -= 0.01 * w.grad.data
print(w)
w.add_(1.0)
