# Old course material: Variable from torch.autograd.
import torch
from torch.autograd import Variable

x_data = Variable(torch.Tensor([[1.0], [2.0], [3.0]]))
y_data = Variable(torch.Tensor([[2.0], [4.0], [6.0]]))
w = Variable(torch.Tensor([1.0]), requires_grad=True)

for epoch in range(5):
    y_pred = x_data * w
    loss = ((y_pred - y_data) ** 2).mean()
    loss.backward()
    print(epoch, loss.item(), w.grad.item())
    w.data = w.data - 0.05 * w.grad.data
    w.grad.data.zero_()
print(type(w).__name__, w)
