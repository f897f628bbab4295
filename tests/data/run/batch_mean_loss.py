# A mini-batch loop: mean loss over each batch, nn.Sequential-free model, F.mse_loss.
import torch
import torch.nn.functional as F

torch.manual_seed(0)
x = torch.tensor([[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]])
y = 3 * x + 1


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(1, 1)
        self.act = torch.nn.ReLU()

    def forward(self, inputs):
        return self.act(self.linear(inputs))


model = Model()
print(model)
optimizer = torch.optim.SGD(model.parameters(), lr=0.02)
for epoch in range(30):
    total = 0.0
    for start in range(0, 6, 2):
        xb, yb = x[start:start + 2], y[start:start + 2]
        loss = F.mse_loss(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    if epoch % 5 == 4:
        print(epoch, total / 3)
print([p.grad for p in model.parameters()])
with torch.no_grad():
    print(model(torch.tensor([[10.0]])))
