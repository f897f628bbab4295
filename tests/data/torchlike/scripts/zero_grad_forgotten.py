import torch

w = torch.Tensor([1.0])
w.requires_grad = True
for epoch in range(5):
    for x, y in zip([1.0, 2.0, 3.0], [2.0, 4.0, 6.0]):
        l = (x * w - y) ** 2
        l.backward()
        print('\tgrad:', x, y, w.grad.item())
        w.data = w.data - 0.01 * w.grad.data
    print("progress:", epoch, l.item())
