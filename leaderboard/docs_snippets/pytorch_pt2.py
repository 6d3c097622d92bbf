import torch
from torch import nn

# Your trained network (a stand-in here) and the challenge's input, C x H x W (here 1 x 28 x 28).
model = nn.Sequential(nn.Flatten(), nn.Linear(1 * 28 * 28, 10))
C, H, W = 1, 28, 28

model.eval()
example = torch.randn(2, C, H, W)
batch = torch.export.Dim("batch")  # any batch size
program = torch.export.export(model, (example,), dynamic_shapes=({0: batch},))
torch.export.save(program, "model.pt2")
