# A student's own variant: batch of points, nn.Linear(2, 1), SGD with momentum, mean MSE.
import sys

import torch

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
torch.manual_seed(0)
x = torch.tensor([[1.0, 2.0], [2.0, 1.0], [3.0, -1.0], [0.5, 0.5]])
y = torch.tensor([[5.0], [4.0], [1.0], [1.5]])

model = torch.nn.Linear(2, 1)
print(model)
print(model.weight, model.bias)
loss_fn = torch.nn.MSELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

for epoch in range(epochs):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    print(f"epoch {epoch}: loss {loss.item():.6f}")
print(model.weight.grad, model.bias.grad)
print(model(x))
