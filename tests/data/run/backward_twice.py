# Calling backward() twice on the same loss.
import torch

w = torch.tensor(1.0, requires_grad=True)
x, y = 2.0, 4.0

shift = w + 3
shift.backward()
shift.backward()  # nothing was saved for an addition: this one just adds again
print("after two backward() through w + 3:", w.grad)

l = (x * w - y) ** 2
l.backward(retain_graph=True)
print("first:", w.grad.item())
l.backward()
print("second (retain_graph=True before):", w.grad.item())
l.backward()
print("never printed")
