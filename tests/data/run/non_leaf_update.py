# w = w - lr * w.grad: w stops being a leaf, its .grad is None after the first step.
import torch

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = torch.Tensor([1.0])
w.requires_grad = True
lr = 0.01

for epoch in range(3):
    for x, y in zip(x_data, y_data):
        l = (x * w - y) ** 2
        l.backward()
        print('grad:', x, y, w.grad)
        w = w - lr * w.grad
        print('w is now', w, w.is_leaf)
        w.grad.data.zero_()
    print("progress:", epoch, l.item())
