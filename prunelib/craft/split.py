"""Split a ResNet into CRAFT's ``g`` (input -> non-negative activations) and ``h`` (activations -> logits)."""
from __future__ import annotations

from torch import nn


def split_resnet(model: nn.Module) -> tuple[nn.Sequential, nn.Sequential]:
    """``g = conv1, bn1, relu, maxpool, layer1..layer4`` and ``h = avgpool, flatten, fc``; ``h(g(x)) == model(x)``.

    The parts share the model's modules (no copies): ``g(x)`` is ``(B, 512, H/32, W/32)`` for a ResNet-18,
    non-negative since layer4 ends with a ReLU; ``h`` maps it to ``(B, num_classes)`` logits.
    """
    needed = ("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc")
    missing = [name for name in needed if not hasattr(model, name)]
    if missing:
        raise ValueError(f"model must be a torchvision-style ResNet; it lacks {missing}")
    g = nn.Sequential(model.conv1, model.bn1, model.relu, model.maxpool,
                      model.layer1, model.layer2, model.layer3, model.layer4)
    h = nn.Sequential(model.avgpool, nn.Flatten(1), model.fc)
    return g, h
