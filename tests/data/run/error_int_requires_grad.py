import torch

w = torch.tensor([1, 2, 3])
print(w.dtype)
w.requires_grad = True
