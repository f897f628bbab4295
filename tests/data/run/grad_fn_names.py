# The grad_fn of each operation, and the graph behind a loss.
import torch

a = torch.tensor([1.0, 2.0], requires_grad=True)
s = 2.0
for name, t in [("a + s", a + s), ("a - s", a - s), ("s - a", s - a), ("a * s", a * s),
                ("a * a", a * a), ("s / a", s / a), ("a / s", a / s), ("a ** 2", a ** 2),
                ("-a", -a), ("exp", torch.exp(a)), ("log", torch.log(a)),
                ("sigmoid", torch.sigmoid(a)), ("relu", torch.relu(a)),
                ("tanh", torch.tanh(a)), ("sqrt", torch.sqrt(a)), ("sum", a.sum()),
                ("mean", a.mean()), ("a @ a", a @ a), ("a[0]", a[0]),
                ("view", a.view(2, 1))]:
    print(name, t.grad_fn.name(), type(t.grad_fn).__name__)

w = torch.tensor([1.0], requires_grad=True)
l = (2.0 * w - 4.0) ** 2
print(l)
print([(f.name() if f is not None else None, i) for f, i in l.grad_fn.next_functions])
nxt = l.grad_fn.next_functions[0][0]
print([(f.name() if f is not None else None, i) for f, i in nxt.next_functions])
print(w.is_leaf, l.is_leaf, w.grad_fn, w.grad)
l.backward()
print(w.grad)
