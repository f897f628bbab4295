import torch

torch.manual_seed(0)
x = torch.rand(12, 3)
true_w = torch.tensor([[1.5], [-2.0], [0.5]])
y = x @ true_w + 0.3
model = torch.nn.Linear(3, 1)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
loss_fn = torch.nn.MSELoss()
for epoch in range(20):
    total = 0.0
    for start in range(0, 12, 4):
        xb, yb = x[start:start + 4], y[start:start + 4]
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item()
    print(f"epoch {epoch}: mean loss {total / 3:.6f}")
print(model.weight, model.bias, sep="\n")
