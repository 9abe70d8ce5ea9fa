"""The saliency registry (prunelib.saliency.METHODS) and SmoothGrad, the method added through it: known answers
on tiny models, batched-vs-unbatched invariance, and the registry's contract."""
import pytest
import torch
import torch.nn as nn

from prunelib.saliency import METHODS, PAPER_METHODS, methods, smoothgrad, vanilla_gradient
from prunelib.saliency.base import SaliencyMethod

from test_saliency import tiny_net


@pytest.fixture
def xs():
    return torch.randn(5, 3, 16, 16, generator=torch.Generator().manual_seed(1))


def test_smoothgrad_of_a_linear_model_is_its_absolute_weight(xs):
    """The gradient of a linear model is its weight wherever it is taken: noise changes nothing."""
    torch.manual_seed(0)
    lin = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 2)).eval()
    w = lin[1].weight[1].detach().view(3, 16, 16)
    got = smoothgrad(lin, xs, 1, n_samples=7, noise_level=0.3)
    torch.testing.assert_close(got, w.abs().sum(0).expand(5, 16, 16), rtol=1e-5, atol=1e-7)


def test_smoothgrad_without_noise_is_the_vanilla_gradient(xs):
    model, t = tiny_net(), torch.tensor([0, 1, 2, 3, 1])
    torch.testing.assert_close(smoothgrad(model, xs, t, noise_level=0.0), vanilla_gradient(model, xs, t))


def test_smoothgrad_is_the_mean_absolute_gradient_of_its_noisy_copies(xs):
    """Against plain autograd on the same noisy copies (the draws captum makes after seeding)."""
    model, n, level = tiny_net(), 4, 0.2
    x = xs[:1]
    sigma = level * float(x.max() - x.min())
    torch.manual_seed(3)
    noisy = (x.repeat(n, 1, 1, 1) + torch.normal(0, sigma, (n, 3, 16, 16))).requires_grad_(True)
    model(noisy)[:, 2].sum().backward()
    expected = noisy.grad.abs().sum(1).mean(0, keepdim=True)
    torch.testing.assert_close(smoothgrad(model, x, 2, n_samples=n, noise_level=level, seed=3), expected,
                               rtol=1e-5, atol=1e-7)


def test_smoothgrad_batched_equals_unbatched_and_leaves_the_rng_alone(xs):
    model, t = tiny_net(), torch.tensor([0, 1, 2, 3, 1])
    state = torch.get_rng_state()
    whole = smoothgrad(model, xs, t, seed=5)
    assert torch.equal(torch.get_rng_state(), state)
    parts = torch.cat([smoothgrad(model, xs[i:i + 1], t[i:i + 1], seed=5) for i in range(5)])
    assert torch.equal(whole, parts)
    assert not torch.equal(whole, smoothgrad(model, xs, t, seed=6))  # the seed is used


def test_smoothgrad_rejects_bad_settings(xs):
    with pytest.raises(ValueError, match="n_samples must be >= 1"):
        smoothgrad(tiny_net(), xs, 0, n_samples=0)


def test_registry_entries_carry_label_presets_and_metric_setting(xs):
    model, t = tiny_net(), torch.tensor([0, 1, 2, 3, 1])
    assert list(METHODS) == ["VG", "IG", "SG"] and PAPER_METHODS == "VG,IG"
    for name, method in METHODS.items():
        assert isinstance(method, SaliencyMethod) and method.name == name and method.label and method.citation
        maps = method(model, xs, t)
        assert maps.shape == (5, 16, 16) and maps.dtype == torch.float32
        assert torch.equal(maps, method.attribute(model, xs, t, **method.metric_preset))
    assert METHODS["IG"].options(ig_steps=7, seed=3) == {"n_steps": 7}  # the profile key it reads
    assert METHODS["VG"].options(ig_steps=7) == {}


def test_methods_picks_registry_entries_by_name():
    assert list(methods("SG,VG")) == ["SG", "VG"]
    with pytest.raises(ValueError, match=r"unknown saliency method\(s\) \['XX'\]; expected names among VG, IG, SG"):
        methods("VG,XX")
