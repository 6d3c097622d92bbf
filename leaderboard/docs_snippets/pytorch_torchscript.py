import torch
from torch import nn

# Your trained network (a stand-in here) and the challenge's input, C x H x W (here 1 x 28 x 28).
model = nn.Sequential(nn.Flatten(), nn.Linear(1 * 28 * 28, 10))
C, H, W = 1, 28, 28

model.eval()
scripted = torch.jit.trace(model, torch.randn(2, C, H, W))  # or torch.jit.script(model)
scripted.save("model.torchscript.pt")
