import torch

torch.manual_seed(0)
print(torch.rand(3))
print(torch.rand(2, 2))
torch.manual_seed(42)
print(torch.randn(5))
torch.manual_seed(0)
layer = torch.nn.Linear(1, 1)
print(layer.weight.item(), layer.bias.item())
torch.manual_seed(1)
layer = torch.nn.Linear(3, 2)
print(layer.weight)
print(layer.bias)
