"""prunelib.metrics.road / road_images / removal_masks: ranking, shapes, batching, agreement with Quantus ROAD."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from prunelib.metrics import noisy_linear_imputation, removal_masks, road, road_images


def tiny_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(24, 3)).eval()


@pytest.fixture
def batch():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(6, 3, 16, 16, generator=g)
    a = torch.rand(6, 16, 16, generator=g)
    with torch.no_grad():
        y = tiny_net()(x).argmax(1)
    return x, y, a


def test_removal_masks_order_and_ties():
    a = torch.tensor([[[0.1, 0.9], [0.5, 0.3]]])
    assert removal_masks(a, 50, "morf").view(-1).tolist() == [False, True, True, False]
    assert removal_masks(a, 50, "lerf").view(-1).tolist() == [True, False, False, True]
    flat = torch.zeros(1, 10, 10)  # all tied: stable sort -> the first k flat indices
    m = removal_masks(flat, 23, "morf").view(-1)
    assert m.sum() == 23 and m[:23].all()
    assert removal_masks(torch.rand(2, 224, 224), 1, "morf").flatten(1).sum(1).tolist() == [501, 501]  # floor(HW p/100)


def test_attribution_shapes_agree(batch):
    x, y, a = batch
    model = tiny_net()
    r = road(model, x, y, a, seed=1)
    assert r.correct.shape == (6, 10) and r.curve.shape == (10,) and r.percentages[0] == 1.0
    torch.testing.assert_close(r.curve, r.correct.float().mean(0))
    r1 = road(model, x, y, a[:, None], seed=1)  # (N, 1, H, W): the shape quantus 0.6.0 chokes on
    r3 = road(model, x, y, a[:, None].expand(-1, 3, -1, -1) / 3, seed=1)  # (N, C, H, W), summed
    assert torch.equal(r.correct, r1.correct) and torch.equal(r.correct, r3.correct)


def test_batching_and_road_images_consistent(batch):
    x, y, a = batch
    model = tiny_net()
    full = road(model, x, y, a, percentages=[10, 50, 90], seed=7, batch_size=6)
    ones = road(model, x, y, a, percentages=[10, 50, 90], seed=7, batch_size=1)
    assert torch.equal(full.correct, ones.correct)
    imgs = road_images(x[4], a[4], [10, 50, 90], seed=7, index=4)
    assert imgs.shape == (3, 3, 16, 16)
    with torch.no_grad():
        assert ((model(imgs).argmax(1) == y[4]) == full.correct[4]).all()
    k = int(256 * 0.5)
    changed = (imgs[1] != x[4]).any(0)
    assert changed.sum() == k and changed[removal_masks(a[4:5], 50)[0]].all()


def test_road_images_are_direct_imputations_plus_seeded_noise(batch):
    """Warm-started CG chain == the direct solve per percentage; noise = 0.01 * N(0,1) from the per-(image, p) seed."""
    x, _, a = batch
    ps, seed, index = [10, 50, 90], 3, 4
    clean = road_images(x[index], a[index], ps, noise=0.0, tol=1e-7)
    noisy = road_images(x[index], a[index], ps, noise=0.01, seed=seed, index=index, tol=1e-7)
    for j, p in enumerate(ps):
        m = removal_masks(a[index:index + 1], p)[0]
        ref = noisy_linear_imputation(x[index].double(), m, noise=0.0, method="direct").float()
        torch.testing.assert_close(clean[j], ref, rtol=0, atol=1e-5)
        g = torch.Generator().manual_seed(seed * 1_000_003 + index * 1009 + j)
        eps = torch.randn(x.shape[1:], generator=g)
        torch.testing.assert_close(noisy[j], torch.where(m, clean[j] + 0.01 * eps, clean[j]), rtol=0, atol=1e-6)


def test_morf_vs_lerf_on_an_analytic_model():
    """A model that reads only the top-left quadrant: removing it (MoRF of a map that marks it) breaks it."""

    class Quadrant(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.ones(()))

        def forward(self, x):
            s = self.w * x[:, :, :8, :8].mean(dim=(1, 2, 3))
            return torch.stack([s, 0.5 * torch.ones_like(s)], dim=1)  # class 0 iff quadrant mean > 0.5

    x = torch.zeros(4, 3, 16, 16)
    x[:, :, :8, :8] = 1.0
    a = torch.zeros(4, 16, 16)
    a[:, :8, :8] = 1.0
    y = torch.zeros(4, dtype=torch.long)
    morf = road(Quadrant().eval(), x, y, a, percentages=[30], noise=0.0)
    lerf = road(Quadrant().eval(), x, y, a, percentages=[30], order="lerf", noise=0.0)
    assert morf.curve.tolist() == [0.0] and lerf.curve.tolist() == [1.0]


def test_matches_quantus_road_without_noise(batch):
    quantus = pytest.importorskip("quantus")
    x, y, a = batch
    model = tiny_net()
    ps = [1, 21, 41, 61, 81, 91]
    q = quantus.ROAD(percentages=ps, noise=0.0, disable_warnings=True, display_progressbar=False)
    q(model=model, x_batch=x.numpy(), y_batch=y.numpy(), a_batch=a[:, None].numpy(), device="cpu", softmax=False)
    ours = road(model, x, y, a, percentages=ps, noise=0.0, tol=1e-7)
    np.testing.assert_allclose(ours.curve.numpy(), np.array([q.evaluation_scores[p] for p in ps]), atol=1e-12)


def test_rejects_bad_input(batch):
    x, y, a = batch
    model = tiny_net()
    with pytest.raises(ValueError, match="attributions shape"):
        road(model, x, y, a[:, :8])
    with pytest.raises(ValueError, match="attributions contains NaN"):
        road(model, x, y, a * float("nan"))
    with pytest.raises(ValueError, match="percentages"):
        road(model, x, y, a, percentages=[0, 50])
    with pytest.raises(ValueError, match="percentages"):
        road(model, x, y, a, percentages=[100])
    with pytest.raises(ValueError, match="x is an empty batch"):
        road(model, x[:0], y[:0], a[:0])
    with pytest.raises(ValueError, match="order"):
        road(model, x, y, a, order="random")
    with pytest.raises(ValueError, match="y must"):
        road(model, x, y[:3], a)
    with pytest.raises(ValueError, match="eval mode"):
        road(tiny_net().train(), x, y, a)
    with pytest.raises(ValueError, match="precision"):
        road(model, x, y, a, precision="fp16")


class Recorder(nn.Module):
    """tiny_net that records, per forward call, its input's layout and the dtype its linear layer computes in."""

    def __init__(self):
        super().__init__()
        self.net = tiny_net()
        self.seen = []

    def forward(self, x):
        out = self.net(x)
        self.seen.append((x.is_contiguous(memory_format=torch.channels_last), out.dtype))
        return out


@pytest.mark.parametrize("precision, dtype", [("fp32", torch.float32), ("bf16", torch.bfloat16)])
def test_precision_runs_the_classifications_as_asked(batch, precision, dtype):
    x, y, a = batch
    model = Recorder().eval()
    road(model, x, y, a, percentages=[10, 50], precision=precision)
    assert model.seen == [(True, dtype)] * 2  # one batch, two percentages, channels_last on CPU


def test_bf16_keeps_decisions_with_clear_margins():
    """Logits 1 apart (far beyond bf16's ~0.4 % rounding): bf16 and fp32 decisions are identical."""

    class Margin(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(1, 2)
            with torch.no_grad():
                self.lin.weight.copy_(torch.tensor([[1.0], [-1.0]]))
                self.lin.bias.zero_()

        def forward(self, x):  # class 0 iff the top-left quadrant is bright
            q = x[:, :, :8, :8].mean(dim=(1, 2, 3), keepdim=True).flatten(1) - 0.5
            return self.lin(q.sign() * 0.5)

    x = torch.zeros(4, 3, 16, 16)
    x[:, :, :8, :8] = 1.0
    a = torch.rand(4, 16, 16, generator=torch.Generator().manual_seed(0))
    a[:, :8, :8] += 1.0  # MoRF removes the quadrant first: decisions flip from right to wrong along the curve
    y = torch.zeros(4, dtype=torch.long)
    runs = [road(Margin().eval(), x, y, a, precision=p, seed=2) for p in ("fp32", "bf16")]
    assert torch.equal(runs[0].correct, runs[1].correct) and 0 < runs[0].curve.mean() < 1
