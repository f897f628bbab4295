# total += l keeps every iteration's graph alive; total.item() is what was meant.
import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]
w = torch.tensor([1.0], requires_grad=True)

for epoch in range(3):
    total = 0
    for x, y in zip(x_data, y_data):
        l = (x * w - y) ** 2
        l.backward()
        total += l
        w.data -= 0.01 * w.grad.data
        w.grad.data.zero_()
    print(epoch, total, total.item() / 3)
