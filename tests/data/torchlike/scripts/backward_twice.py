import torch

w = torch.tensor([2.0], requires_grad=True)
l = (3.0 * w - 1.0) ** 2
l.backward()
print(w.grad)
l.backward()
print("not reached")
