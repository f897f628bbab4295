# nn.Linear and SGD with optimizer.zero_grad() left out, inside a main() function.
import torch

def main():
    torch.manual_seed(0)
    x = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([[2.0], [4.0], [6.0]])
    model = torch.nn.Linear(1, 1)
    criterion = torch.nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    for epoch in range(5):
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        print(epoch, loss.item())

main()
