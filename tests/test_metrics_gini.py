"""prunelib.metrics.gini against analytic values and quantus.Sparseness (0.5.3)."""
import os

import numpy as np
import pytest
import torch

from prunelib.metrics import gini

quantus = pytest.importorskip("quantus")


def _quantus_gini(a: np.ndarray) -> np.ndarray:
    x = np.zeros((a.shape[0], 3, *a.shape[-2:]), dtype=np.float32)
    s = quantus.Sparseness(disable_warnings=True)
    return np.asarray(s(model=None, x_batch=x, y_batch=np.zeros(len(a), int), a_batch=a), dtype=np.float64)


def test_analytic():
    uniform = torch.ones(1, 8, 8)
    assert gini(uniform).item() == pytest.approx(0.0, abs=1e-12)
    one_hot = torch.zeros(1, 8, 8)
    one_hot[0, 3, 4] = -5.0  # abs value counts
    n = 64
    assert gini(one_hot, eps=0.0).item() == pytest.approx((n - 1) / n, abs=1e-12)
    ramp = torch.arange(1, 101, dtype=torch.float64).view(1, 10, 10)
    assert gini(ramp, eps=0.0).item() == pytest.approx(99 / 300, abs=1e-12)  # (n - 1) / (3 n) for 1..n
    assert gini(torch.zeros(1, 4, 4)).item() == pytest.approx(0.0, abs=1e-12)
    # a chance-level network's maps are zero everywhere: G is 0, never the float sum's -1e-17 (shown as "-0.000")
    for flat in (torch.zeros(2, 128, 128), torch.full((2, 224, 224), 3.0)):
        assert (gini(flat) >= 0).all() and gini(flat).max() < 1e-12


def test_shapes_and_scale():
    a = torch.randn(4, 12, 12, generator=torch.Generator().manual_seed(0))
    g = gini(a)
    assert g.shape == (4,) and g.dtype == torch.float64
    torch.testing.assert_close(gini(a[:, None]), g)
    torch.testing.assert_close(gini(a * 1e3), g, rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(torch.cat([gini(a[i : i + 1]) for i in range(4)]), g)


@pytest.mark.parametrize("shape", [(6, 32, 32), (3, 64, 48)])
def test_matches_quantus_random(shape):
    rng = np.random.default_rng(0)
    a = (rng.standard_normal(shape) * rng.exponential(1.0, size=(shape[0], 1, 1))).astype(np.float32)
    a[0] = np.abs(a[0]) ** 3  # a heavier-tailed map
    per_map = np.concatenate([_quantus_gini(a[i : i + 1]) for i in range(len(a))])
    np.testing.assert_allclose(gini(torch.from_numpy(a)).numpy(), per_map, rtol=0, atol=1e-6)
    batch = _quantus_gini(a)  # Quantus normalises by the batch maximum
    np.testing.assert_allclose(gini(torch.from_numpy(a), normalise="batch").numpy(), batch, rtol=0, atol=1e-6)


def test_matches_quantus_real_maps():
    """Vanilla-gradient maps of a small conv net on six images of ``$PRUNELIB_DATA`` (64 px; ``make test`` sets it to
    the real ImageNette or a synthetic one), else on smooth random images."""
    from PIL import Image

    from prunelib import data
    from prunelib.saliency import vanilla_gradient

    if os.environ.get("PRUNELIB_DATA"):
        files = sorted(data.locate(os.environ["PRUNELIB_DATA"]).glob("val/*/*.JPEG"))
        files = files[:: max(1, len(files) // 6)][:6]
        u8 = torch.stack([torch.from_numpy(np.array(Image.open(f).convert("RGB").resize((64, 64)))).permute(2, 0, 1)
                          for f in files])
        x = data.eval_batch(u8, 64)
    else:
        x = torch.nn.functional.avg_pool2d(torch.randn(6, 3, 68, 68, generator=torch.Generator().manual_seed(0)), 5, 1)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(4), torch.nn.Flatten(),
        torch.nn.Linear(8 * 16 * 16, 10),
    ).eval()
    maps = vanilla_gradient(net, x, 0)
    per_map = np.concatenate([_quantus_gini(maps[i : i + 1].numpy()) for i in range(len(maps))])
    np.testing.assert_allclose(gini(maps).numpy(), per_map, rtol=0, atol=1e-6)


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="attributions.*NaN"):
        gini(torch.tensor([[[float("nan"), 1.0]]]))
    with pytest.raises(ValueError, match="attributions.*empty"):
        gini(torch.zeros(0, 4, 4))
    with pytest.raises(ValueError, match="normalise"):
        gini(torch.ones(1, 4, 4), normalise="global")
