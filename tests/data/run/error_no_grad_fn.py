import torch

w = torch.tensor([1.0])
l = (2 * w - 4) ** 2
print(l.requires_grad)
l.backward()
