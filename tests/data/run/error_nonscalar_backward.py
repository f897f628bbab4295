import torch

x = torch.tensor([1.0, 2.0, 3.0])
w = torch.tensor([1.0], requires_grad=True)
l = (x * w - 2 * x) ** 2
print(l)
l.backward()
