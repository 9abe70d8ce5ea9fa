"""The one rule that chooses the validation images to explain, on constant and pixel-driven models with known answers."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from prunelib import data
from prunelib.selection import choose_correct, one_per_class


class Constant(nn.Module):
    """Predicts class ``c`` for every image."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.c, self.w = c, nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(x.shape[0], 10) + self.w
        out[:, self.c] = 1.0
        return out


class ByPixel(nn.Module):
    """Predicts class 0 when the image's first pixel is bright, else class 1."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(x.shape[0], 10) + self.w
        out[:, 0] = (x[:, 0, 0, 0] > 0).float()
        out[:, 1] = 0.5
        return out


def split_of(labels: list[int], bright: tuple[int, ...] = ()) -> data.Split:
    images = torch.zeros(len(labels), 3, 8, 8, dtype=torch.uint8)
    images[list(bright)] = 255
    return data.Split(images=images, labels=torch.tensor(labels), files=[f"f{i}" for i in range(len(labels))],
                      name="val", root=None)


def test_prefers_images_right_at_every_network() -> None:
    split = split_of([0, 0, 0, 1, 1, 1, 2, 2])
    chosen, n_shared, n_correct = choose_correct({0.0: Constant(0), 0.5: Constant(0)}, split, image_size=8, n=3)
    assert n_shared == 3 and all(c.tolist() == [0, 1, 2] for c in chosen.values()) and n_correct == {0.0: 3, 0.5: 3}
    chosen, n_shared, n_correct = choose_correct({0.0: Constant(0), 0.5: Constant(1)}, split, image_size=8, n=4)
    assert n_shared == 0 and n_correct == {0.0: 3, 0.5: 3}  # nothing is right at both networks; 3 of 4 asked
    assert chosen[0.0].tolist() == [0, 1, 2] and chosen[0.5].tolist() == [3, 4, 5]


def test_excluded_networks_take_their_own_images_and_do_not_restrict_sharing() -> None:
    split = split_of([0, 0, 0, 1, 1, 1, 2, 2])
    models = {0.0: Constant(0), 0.5: Constant(0), 0.98: Constant(1)}  # 0.98 only ever says class 1
    chosen, n_shared, _ = choose_correct(models, split, image_size=8, n=3, exclude=(0.98,))
    assert n_shared == 3
    assert chosen[0.0].tolist() == chosen[0.5].tolist() == [0, 1, 2]
    assert chosen[0.98].tolist() == [3, 4, 5]
    assert choose_correct(models, split, image_size=8, n=3).n_shared == 0


def test_topped_up_with_own_correct_images_and_seeded() -> None:
    # dense right on the 6 class-0 images; the pruned net only on the bright ones (0, 1): 2 shared, 1 topped up
    split = split_of([0] * 6 + [1] * 6, bright=(0, 1))
    models = {0.0: Constant(0), 0.5: ByPixel()}
    chosen, n_shared, _ = choose_correct(models, split, image_size=8, n=3, seed=0)
    dense, pruned = set(chosen[0.0].tolist()), set(chosen[0.5].tolist())
    assert n_shared == 2 and len(dense) == len(pruned) == 3
    assert {0, 1} < dense and len(dense - {0, 1} - set(range(2, 6))) == 0  # its third: another class-0 image
    assert {0, 1} < pruned and len(pruned - {0, 1} - set(range(6, 12))) == 0  # its third: a class-1 image
    again = choose_correct(models, split, image_size=8, n=3, seed=0).indices
    assert all(torch.equal(again[k], chosen[k]) for k in chosen)
    others = [choose_correct({0.0: Constant(0)}, split, image_size=8, n=3, seed=s).indices[0.0].tolist() for s in range(8)]
    assert len({tuple(o) for o in others}) > 1  # the seed changes which correct images are drawn


def test_of_class_and_too_few() -> None:
    split = split_of([0, 0, 1, 1, 1, 2])
    chosen = choose_correct({0.0: Constant(1)}, split, image_size=8, n=2, of_class=data.CLASSES[1]).indices
    assert chosen[0.0].tolist() in ([2, 3], [2, 4], [3, 4])
    with pytest.raises(ValueError, match=r"only 0 .* of class .* are classified correctly by sparsity 0%"):
        choose_correct({0.0: Constant(1)}, split, image_size=8, n=2, of_class=data.CLASSES[0])
    chosen, _, n_correct = choose_correct({0.0: Constant(1)}, split, image_size=8, n=2, of_class=data.CLASSES[0],
                                          too_few="any")
    assert chosen[0.0].tolist() == [0, 1] and n_correct == {0.0: 0}  # regardless of correctness, and said so
    with pytest.raises(ValueError, match="no image of class"):
        choose_correct({0.0: Constant(0)}, split, image_size=8, n=1, of_class=data.CLASSES[3])
    with pytest.raises(ValueError, match="unknown class 'zebra'"):
        choose_correct({0.0: Constant(0)}, split, image_size=8, n=1, of_class="zebra")
    with pytest.raises(ValueError, match="n must be >= 1"):
        choose_correct({0.0: Constant(0)}, split, image_size=8, n=0)


def test_one_per_class_takes_an_image_every_network_gets_right() -> None:
    split = split_of([0, 0, 0, 0, 1, 1], bright=(2,))  # image 2: the only class-0 image ByPixel gets right
    names = [data.CLASSES[0], data.CLASSES[1]]
    chosen = one_per_class({0.0: Constant(0), 0.5: ByPixel()}, split, names, image_size=8)
    assert chosen[0] == 2
    assert split.labels[chosen[1]] == 1  # no class-1 image is right at the dense network: any class-1 image
    # a network near chance is left out of "every network"; then the dense network decides
    chosen = one_per_class({0.0: Constant(0), 0.5: Constant(1)}, split, names[:1], image_size=8, exclude=(0.5,))
    assert split.labels[chosen[0]] == 0
