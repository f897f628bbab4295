# The update written under torch.no_grad() instead of through .data
import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)
lr = 0.01

for epoch in range(20):
    for x, y in zip(x_data, y_data):
        l = (x * w - y) ** 2
        l.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
    print("epoch", epoch, "loss", l.item(), "w", w.item())

with torch.no_grad():
    y4 = w * 4
print(y4, y4.requires_grad, y4.grad_fn)
print(w)
