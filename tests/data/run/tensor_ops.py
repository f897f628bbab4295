# Operations of the subset on small tensors, with their gradients.
import numpy as np
import torch

a = torch.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
b = torch.tensor([[0.5]], requires_grad=True)
c = a * b + 1 - a / 4
print(c)
print(c.sum(), c.mean(), c.sum(dim=0), c.mean(dim=1))
c.sum().backward()
print(a.grad, b.grad)

x = torch.from_numpy(np.array([1.0, -2.0, 3.0]))
print(x, x.dtype)
y = torch.Tensor(np.array([[1, 2], [3, 4]]))
print(y, y.dtype)
print(y @ y, torch.matmul(y, torch.ones(2)), torch.mm(y, y.t()))
print(torch.abs(x), torch.relu(x), x.pow(2), x ** 0.5)
z = torch.ones(3).clone()
z.add_(1)
z.sub_(0.5)
z.mul_(2)
z += 1
z *= 3
z -= 0.25
print(z)
w = torch.zeros(2, 2).requires_grad_()
print(w.requires_grad, w.is_leaf)
d = w.detach()
print(d.requires_grad, d.is_leaf)
v = torch.tensor([2.0, 3.0], requires_grad=True)
out = v * v
out.backward(gradient=torch.tensor([1.0, 0.5]))
print(v.grad)
k = (v * 3).sum()
k.backward(retain_graph=True)
k.backward()
print(v.grad)
t = torch.arange(6).view(2, 3)
print(t, t.shape, t[1], t[1][2], t.reshape(3, 2))
print(torch.rand(2).shape, torch.randn(2, 3).size(), torch.zeros(1).item())
