import torch

y_pred = torch.Tensor([[2.0], [4.0], [6.0]])
print(y_pred.item())
