import torch
from torch import nn

# Your trained network (a stand-in here) and the challenge's input, C x H x W (here 1 x 28 x 28).
model = nn.Sequential(nn.Flatten(), nn.Linear(1 * 28 * 28, 10))
C, H, W = 1, 28, 28

model.eval()
example = torch.randn(2, C, H, W)  # [N, C, H, W], normalised as the challenge page says
torch.onnx.export(
    model,
    (example,),
    "model.onnx",
    dynamo=True,
    input_names=["input"],
    output_names=["logits"],
    dynamic_shapes=({0: torch.export.Dim("batch")},),  # any batch size
    external_data=False,  # the weights inside the file: a model.onnx.data beside it is refused
)
