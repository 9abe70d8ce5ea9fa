"""prunelib.saliency: VG against plain autograd, IG completeness and analytic cases, presets, selection."""
import pytest
import torch
import torch.nn as nn

from prunelib.saliency import IG_FIGURE, IG_METRIC, ig_figure, ig_metric, integrated_gradients, vanilla_gradient


def tiny_net(seed: int = 0, n_classes: int = 4) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.Softplus(), nn.Conv2d(8, 8, 3, padding=1), nn.Tanh(),
        nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(32, n_classes),
    ).eval()


@pytest.fixture
def xs():
    return torch.randn(5, 3, 16, 16, generator=torch.Generator().manual_seed(1))


def test_vg_matches_autograd(xs):
    model, t = tiny_net(), torch.tensor([0, 1, 2, 3, 1])
    xr = xs.clone().requires_grad_(True)
    model(xr).gather(1, t[:, None]).sum().backward()
    expected = xr.grad.abs().sum(1)
    got = vanilla_gradient(model, xs, t, batch_size=2)
    assert got.shape == (5, 16, 16)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-7)
    signed = vanilla_gradient(model, xs, t, abs=False)
    torch.testing.assert_close(signed, xr.grad.sum(1), rtol=1e-5, atol=1e-7)
    assert not torch.allclose(signed, got)


def test_ig_completeness(xs):
    model, t = tiny_net(), torch.tensor([0, 1, 2, 3, 1])
    with torch.no_grad():
        delta = model(xs).gather(1, t[:, None])[:, 0] - model(torch.zeros_like(xs)).gather(1, t[:, None])[:, 0]
    fine = integrated_gradients(model, xs, t, n_steps=200, internal_batch_size=256).sum(dim=(1, 2))
    torch.testing.assert_close(fine, delta, rtol=1e-3, atol=1e-4)
    # captum's riemann_trapezoid weights sum to (n-1)/n (0.9 for the paper's 10 steps): completeness holds
    # for 0.9 * delta up to the Riemann error, and clearly not for delta itself
    coarse = ig_metric(model, xs, t).sum(dim=(1, 2))
    assert ((coarse - 0.9 * delta).abs() <= 0.02 * delta.abs() + 1e-4).all()
    assert ((coarse - delta).abs() > 0.05 * delta.abs()).all()


def test_ig_goes_to_captum_in_chunks_of_images_that_its_batching_can_split(xs):
    """5 images x 2 steps with at most 4 inputs per pass: chunks of 2 images (4 inputs), no captum warning that
    the batch size is smaller than the number of images, and the maps of a per-image baseline stay each image's."""
    import warnings
    model, t = tiny_net(), torch.tensor([0, 1, 2, 3, 1])
    base = torch.rand(xs.shape, generator=torch.Generator().manual_seed(2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # captum's "Internal batch size cannot be less than ..." would raise
        chunked = integrated_gradients(model, xs, t, baseline=base, n_steps=2, internal_batch_size=4)
    whole = integrated_gradients(model, xs, t, baseline=base, n_steps=2, internal_batch_size=None)
    alone = torch.cat([integrated_gradients(model, xs[i:i + 1], t[i], baseline=base[i:i + 1], n_steps=2)
                       for i in range(5)])
    torch.testing.assert_close(chunked, whole, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(chunked, alone, rtol=1e-5, atol=1e-7)


def test_ig_linear_model_is_exact(xs):
    torch.manual_seed(0)
    lin = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 2, bias=True)).eval()
    w = lin[1].weight[1].detach().view(3, 16, 16)
    got = integrated_gradients(lin, xs, 1, n_steps=3, method="gausslegendre")
    torch.testing.assert_close(got, (w * xs).sum(1), rtol=1e-5, atol=1e-6)
    trap = integrated_gradients(lin, xs, 1, n_steps=3, method="riemann_trapezoid")  # weights sum to 2/3
    torch.testing.assert_close(trap, (w * xs).sum(1) * 2 / 3, rtol=1e-5, atol=1e-6)
    base = torch.full_like(xs, 0.5)
    got_b = integrated_gradients(lin, xs, 1, baseline=base, n_steps=3)
    torch.testing.assert_close(got_b, (w * (xs - 0.5)).sum(1), rtol=1e-5, atol=1e-6)


def test_presets_and_clipping(xs):
    assert IG_METRIC == {"n_steps": 10, "method": "riemann_trapezoid", "clip_negative": False}
    assert IG_FIGURE["n_steps"] == 50 and IG_FIGURE["clip_negative"]
    model = tiny_net()
    fig = ig_figure(model, xs, 0)
    signed = integrated_gradients(model, xs, 0)
    assert (fig >= 0).all() and (signed < 0).any()
    torch.testing.assert_close(fig, signed.clamp_min(0))


def test_batched_equals_unbatched(xs):
    model = tiny_net()
    full = integrated_gradients(model, xs, 2, n_steps=10, internal_batch_size=7)
    one = torch.cat([integrated_gradients(model, xs[i : i + 1], 2, n_steps=10) for i in range(5)])
    torch.testing.assert_close(full, one, rtol=1e-5, atol=1e-6)


def test_rejects_bad_input(xs):
    model = tiny_net()
    with pytest.raises(ValueError, match="float32"):
        vanilla_gradient(model, xs.to(torch.bfloat16), 0)
    with pytest.raises(ValueError, match="eval mode"):
        vanilla_gradient(tiny_net().train(), xs, 0)
    with pytest.raises(ValueError, match="target"):
        integrated_gradients(model, xs, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="float32"):
        vanilla_gradient(tiny_net().to(torch.bfloat16), xs, 0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu(xs):
    model = tiny_net()
    cpu = vanilla_gradient(model, xs, 1)
    gpu = vanilla_gradient(model.cuda(), xs.cuda(), 1)
    assert gpu.is_cuda
    torch.testing.assert_close(gpu.cpu(), cpu, rtol=1e-4, atol=1e-6)
