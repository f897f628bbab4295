# Lecture 06 as on the slides: F.sigmoid and BCELoss(size_average=False), weights set by hand.
import torch
import torch.nn.functional as F

x_data = torch.Tensor([[1.0], [2.0], [3.0]])
y_data = torch.Tensor([[0], [0], [1]])


class LogisticRegressionModel(torch.nn.Module):
    def __init__(self):
        super(LogisticRegressionModel, self).__init__()
        self.linear = torch.nn.Linear(1, 1)

    def forward(self, x):
        y_pred = F.sigmoid(self.linear(x))
        return y_pred


model = LogisticRegressionModel()
model.linear.weight.data = torch.Tensor([[0.3]])
model.linear.bias.data = torch.Tensor([-0.2])
criterion = torch.nn.BCELoss(size_average=False)
optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

for epoch in range(100):
    y_pred = model(x_data)
    loss = criterion(y_pred, y_data)
    print(epoch, loss.item())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

print(model.linear.weight, model.linear.bias)
print(model(torch.Tensor([[4.0]])))
sig = torch.nn.Sigmoid()
print(sig(torch.tensor([0.0, 1.0])), torch.sigmoid(torch.tensor(-3.0)).item())
