import torch

w = torch.tensor([1.0], requires_grad=True)
l = (3.0 * w - 6.0) ** 2
l.backward()
print(w.grad)
w -= 0.01 * w.grad
