import torch

w = torch.tensor([1.0], requires_grad=True)
b = torch.tensor(0.0, requires_grad=True)
for epoch in range(30):
    for x, y in [(1.0, 2.0), (2.0, 4.0), (3.0, 6.0)]:
        l = (w * x + b - y) ** 2
        l.backward()
        with torch.no_grad():
            w -= 0.01 * w.grad
            b -= 0.01 * b.grad
        w.grad.zero_()
        b.grad.zero_()
    print(epoch, l.item(), w.item(), b.item())
print(w, b, w.grad, (w * 2).requires_grad)
