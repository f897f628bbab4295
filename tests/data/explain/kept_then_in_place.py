# total += l of a summed loss, then an in-place op on the leaf outside no_grad.
import torch
w = torch.tensor([1.0, 2.0], requires_grad=True)
losses = 0
for step in range(3):
    l = (w * 3).sum()
    l.backward()
    with torch.no_grad():
        w -= 0.1 * w.grad
    w.grad.zero_()
    losses += l
print(losses)
w -= 1
