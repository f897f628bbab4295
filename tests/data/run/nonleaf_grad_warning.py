# Reading .grad of a tensor that is not a leaf: PyTorch warns and gives None.
import torch

w = torch.tensor([1.0], requires_grad=True)
y_pred = 2.0 * w
l = (y_pred - 4.0) ** 2
l.backward()
print("w.grad:", w.grad)
print("y_pred.grad:", y_pred.grad)

z = 3.0 * w
z.retain_grad()
(z * z).sum().backward()
print("z.grad after retain_grad:", z.grad, "w.grad:", w.grad)
