"""prunelib.metrics.noisy_linear_imputation: the ROAD system, against Quantus 0.5.3 and the direct solve."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from prunelib.metrics import noisy_linear_imputation
from prunelib.metrics.imputation import _check, _solve_cg, _stencil, neighbour_kernel

quantus = pytest.importorskip("quantus")
from quantus.functions.perturb_func import noisy_linear_imputation as q_nli  # noqa: E402


def _case(h, w, frac, seed, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(3, h, w, generator=g, dtype=dtype) * 4 - 2
    idx = torch.randperm(h * w, generator=g)[: int(h * w * frac)]
    m = torch.zeros(h * w, dtype=torch.bool)
    m[idx] = True
    return x, idx, m.view(h, w)


@pytest.mark.parametrize("frac", [0.01, 0.5, 0.91])
@pytest.mark.parametrize("hw", [(32, 32), (64, 48)])
def test_matches_quantus(hw, frac):
    x, idx, m = _case(*hw, frac, seed=int(frac * 100))
    ref = torch.from_numpy(q_nli(x.double().numpy().copy(), np.sort(idx.numpy()), noise=0.0))
    scale = ref.abs().max()
    ours = noisy_linear_imputation(x, m, noise=0.0)  # float32, CG with the default tolerance
    assert ((ours.double() - ref).abs().max() / scale) < 1e-5
    direct = noisy_linear_imputation(x.double(), m, noise=0.0, method="direct")
    assert ((direct - ref).abs().max() / scale) < 1e-12


def test_weighted_mean_property_and_kept_pixels():
    x, _, m = _case(20, 24, 0.6, seed=3, dtype=torch.float64)
    out = noisy_linear_imputation(x, m, noise=0.0, tol=1e-12)
    assert torch.equal(out[:, ~m], x[:, ~m])
    s = _stencil(torch.ones(1, 20, 24, dtype=torch.float64))  # sum of in-image neighbour weights
    assert s[0, 0, 0].item() == pytest.approx(5 / 12) and s[0, 0, 5].item() == pytest.approx(2 / 3)
    assert s[0, 5, 5].item() == pytest.approx(1.0)
    mean = _stencil(out) / s
    torch.testing.assert_close(out[:, m], mean[:, m], rtol=0, atol=1e-9)


def test_stencil_equals_conv_kernel():
    u = torch.randn(2, 1, 9, 11, dtype=torch.float64)
    torch.testing.assert_close(_stencil(u), F.conv2d(u, neighbour_kernel(torch.float64), padding=1))


def test_constant_image_stays_constant_and_batch_invariance():
    xs = torch.stack([_case(24, 24, f, seed=i)[0] for i, f in enumerate([0.2, 0.5, 0.9])])
    ms = torch.stack([_case(24, 24, f, seed=i)[2] for i, f in enumerate([0.2, 0.5, 0.9])])
    batched = noisy_linear_imputation(xs, ms, noise=0.0)
    single = torch.stack([noisy_linear_imputation(xs[i], ms[i], noise=0.0) for i in range(3)])
    torch.testing.assert_close(batched, single, rtol=0, atol=1e-5)
    const = torch.full((1, 3, 24, 24), 0.7)
    # float32 at a relative residual of 1e-7 is solved to ~10 ulp (0.7 has an ulp of 6e-8)
    torch.testing.assert_close(noisy_linear_imputation(const, ms[2:], noise=0.0, tol=1e-7), const, rtol=0, atol=2e-6)


def test_noise_statistics_and_generator():
    x, _, m = _case(64, 64, 0.5, seed=5)
    clean = noisy_linear_imputation(x, m, noise=0.0)
    a = noisy_linear_imputation(x, m, noise=0.1, generator=torch.Generator().manual_seed(1))
    b = noisy_linear_imputation(x, m, noise=0.1, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a, b)
    d = a - clean
    assert torch.equal(d[:, ~m], torch.zeros_like(d[:, ~m]))
    assert d[:, m].std().item() == pytest.approx(0.1, rel=0.05) and abs(d[:, m].mean().item()) < 0.01


def test_rejects_bad_input():
    x, _, m = _case(8, 8, 0.5, seed=0)
    with pytest.raises(ValueError, match="removed_mask"):
        noisy_linear_imputation(x, m[:4])
    with pytest.raises(ValueError, match="every pixel"):
        noisy_linear_imputation(x, torch.ones(8, 8, dtype=torch.bool))
    with pytest.raises(ValueError, match="x contains NaN"):
        noisy_linear_imputation(x * float("nan"), m)
    with pytest.raises(ValueError, match="empty"):
        noisy_linear_imputation(torch.zeros(0, 3, 8, 8), torch.zeros(0, 8, 8, dtype=torch.bool))
    with pytest.raises(ValueError, match="boolean"):
        noisy_linear_imputation(x, m.float())
    with pytest.raises(ValueError, match="cpu_threads"):
        noisy_linear_imputation(x, m, cpu_threads=0)


def test_torch_keeps_its_thread_count_after_the_numba_solve():
    """numba's OpenMP threading layer sets the count torch's OpenMP reads: a process limited to one thread would
    train its next network on every core (another realization of it) after a measurement."""
    x, _, m = _case(16, 16, 0.5, seed=4)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        noisy_linear_imputation(x, m, noise=0.0, engine="numba")
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_cpu_threads_restored_and_result_unchanged():
    x, _, m = _case(16, 16, 0.5, seed=4)
    before = torch.get_num_threads()
    one = noisy_linear_imputation(x, m, noise=0.0, cpu_threads=1)
    assert torch.get_num_threads() == before
    torch_one = noisy_linear_imputation(x, m, noise=0.0, cpu_threads=1, engine="torch")
    assert torch.get_num_threads() == before
    torch.testing.assert_close(torch_one, one, rtol=0, atol=1e-5)
    torch.testing.assert_close(one, noisy_linear_imputation(x, m, noise=0.0, cpu_threads=None), rtol=0, atol=1e-6)


def _clustered_case(size=64, seed=0):
    """An image-like x (smooth field + texture) and a blurred-noise map whose top pixels form large holes."""
    g = torch.Generator().manual_seed(seed)
    blur = torch.ones(1, 1, 9, 9, dtype=torch.float64) / 81
    smooth = lambda t: F.conv2d(F.conv2d(t, blur, padding=4), blur, padding=4)  # noqa: E731
    x = (smooth(torch.randn(3, 1, size, size, generator=g, dtype=torch.float64)) * 8
         + 0.3 * torch.randn(3, 1, size, size, generator=g, dtype=torch.float64))[:, 0]
    rank = smooth(torch.randn(1, 1, size, size, generator=g, dtype=torch.float64)).flatten().argsort(descending=True)
    masks = []
    for frac in (0.5, 0.91):
        m = torch.zeros(size * size, dtype=torch.bool)
        m[rank[: int(size * size * frac)]] = True
        masks.append(m.view(size, size))
    return x, masks


def _iterations(x, mask, tol, initial=None, engine="auto") -> int:
    """The CG iteration count of the slowest system for one imputation (what the solver returns beside it)."""
    x4, m, _ = _check(x, mask, 0.0)
    init = None if initial is None else initial.reshape(x4.shape)
    return _solve_cg(x4, m, tol, 2000, init, engine, None)[1]


def test_warm_start_from_nested_mask_same_solution_fewer_iterations():
    x, (m50, m91) = _clustered_case()
    ref = noisy_linear_imputation(x, m91, noise=0.0, method="direct")
    prev = noisy_linear_imputation(x, m50, noise=0.0, tol=1e-10)
    cold = noisy_linear_imputation(x, m91, noise=0.0, tol=1e-10)
    warm = noisy_linear_imputation(x, m91, noise=0.0, tol=1e-10, initial=prev)
    torch.testing.assert_close(cold, ref, rtol=0, atol=1e-8)
    torch.testing.assert_close(warm, ref, rtol=0, atol=1e-8)
    iters = []  # at ROAD's working tolerance the warm start saves iterations
    for init in (None, prev):
        iters.append(_iterations(x, m91, 1e-5, init))
    assert iters[1] < iters[0]
    with pytest.raises(ValueError, match="initial"):
        noisy_linear_imputation(x, m91, initial=prev[:2])


def test_road_tolerance_error_is_far_below_the_noise():
    """ROAD's default tol=1e-5 in float32 on large clustered holes: worst pixel << sigma = 0.01."""
    x, (m50, m91) = _clustered_case(seed=1)
    for m in (m50, m91):
        ref = noisy_linear_imputation(x, m, noise=0.0, method="direct")
        err = noisy_linear_imputation(x.float(), m, noise=0.0, tol=1e-5).double() - ref
        assert err.abs().max() < 2e-3 and err.pow(2).mean().sqrt() < 2e-4


@pytest.mark.parametrize("frac", [0.01, 0.5, 0.91])
def test_numba_and_torch_engines_solve_the_same_systems(frac):
    """The fused CPU kernel and the batched torch loop: same start, same stopping rule, same answer."""
    x, masks = _clustered_case(size=48, seed=2)
    x = x.float().unsqueeze(0).expand(2, -1, -1, -1).contiguous()
    m = torch.stack([_case(48, 48, frac, seed=9)[2], masks[1]])  # scattered and clustered holes
    ref = noisy_linear_imputation(x.double(), m, noise=0.0, method="direct")
    out, iters = {}, {}
    for engine in ("numba", "torch"):
        out[engine] = noisy_linear_imputation(x, m, noise=0.0, tol=1e-6, engine=engine)
        iters[engine] = _iterations(x, m, 1e-6, engine=engine)
        assert (out[engine].double() - ref).abs().max() < 1e-4
    assert abs(iters["numba"] - iters["torch"]) <= 2  # the same algorithm, up to float rounding
    warm = noisy_linear_imputation(x, m, noise=0.0, tol=1e-6, engine="numba", initial=out["torch"])
    assert _iterations(x, m, 1e-6, out["torch"], "numba") <= 1 and (warm.double() - ref).abs().max() < 1e-4


def test_engine_choice_is_checked_and_numba_threads_restored():
    import numba

    x, _, m = _case(16, 16, 0.5, seed=4)
    with pytest.raises(ValueError, match="engine"):
        noisy_linear_imputation(x, m, engine="cuda")
    before = numba.get_num_threads()
    noisy_linear_imputation(x, m, noise=0.0, cpu_threads=1)
    assert numba.get_num_threads() == before


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu():
    x, _, m = _case(32, 32, 0.7, seed=2)
    torch.testing.assert_close(noisy_linear_imputation(x.cuda(), m.cuda(), noise=0.0).cpu(),
                               noisy_linear_imputation(x, m, noise=0.0), rtol=0, atol=1e-5)
