import numpy as np
import torch

print(torch.tensor(3.5), torch.tensor([1, 2, 3]), torch.tensor([True, False]))
print(torch.tensor([[1.0, -2.5], [3.25, 4.0]]))
print(torch.tensor([1e-5, 123.0]), torch.tensor([1.5, 2.0], dtype=torch.float64))
print(torch.zeros(2, 3, dtype=torch.int64), torch.ones(2, 1).shape, torch.arange(6).view(2, 3))
w = torch.tensor([[0.5, -1.0]], requires_grad=True)
print(w, w * 2, w.sum(), w.t(), w[0], w.mean())
print(torch.nn.Parameter(torch.ones(2)))
print(torch.from_numpy(np.arange(3.0)), torch.Tensor(np.linspace(0, 1, 4)).view((4, 1)))
print(torch.rand(2, 2).dtype, torch.tensor(7).item(), torch.tensor(0.1).item())
print(torch.arange(0.0, 40.0).view(4, 10) / 3)
