import timm
from safetensors.torch import save_file

# Built as the site builds "timm/resnet18" for 1-channel images and 10 classes. Starting from
# pretrained=True on your own machine gives the same network, so the same weight names.
model = timm.create_model("resnet18", pretrained=False, num_classes=10, in_chans=1)

# ... train it, then save the weights only:
save_file(model.state_dict(), "model.safetensors")
