import torch

criterion = torch.nn.MSELoss(size_average=False)
y_pred = torch.tensor([[1.0], [2.0]], requires_grad=True)
loss = criterion(y_pred, torch.tensor([1.5, 2.5]))
print(loss)
loss.backward()
print(y_pred.grad)
