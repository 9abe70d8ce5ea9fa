"""The authors' code path (prunelib.pruning.authors_*, prunelib.schedule.authors_schedule): their per-tensor
percentile with an accumulating mask, their rewind, and what retraining without a held mask does (known answers)."""
from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator

import pytest
import torch
from torch import nn

from prunelib.profiles import as_settings
from prunelib import checkpoint, pipeline, regimes
from prunelib.pruning import authors_masks, global_sparsity, mask_sparsity, rewind_authors
from prunelib.schedule import authors_schedule
from prunelib.training import TrainConfig, lr_schedule


def test_the_mask_cuts_the_rate_quantile_of_the_non_zero_weights_and_accumulates() -> None:
    layer = nn.Linear(10, 1, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.0, -1, 2, -3, 4, 5, 6, 7, 8, 9]]))
    # the non-zero |w| are 1..9; their 25 % quantile is 3 (linear interpolation, as np.percentile): 0, 1, 2 go
    first = authors_masks(layer, 0.25)
    assert first["weight"].tolist() == [[False, False, False, True, True, True, True, True, True, True]]
    # a weight that grew back stays masked: the mask accumulates; the new cut is the 25 % quantile of 1..9 again
    again = authors_masks(layer, 0.25, {"weight": torch.tensor([[True] * 9 + [False]])})
    assert again["weight"].tolist() == [[False, False, False, True, True, True, True, True, True, False]]
    assert authors_masks(layer, 0.0)["weight"].tolist() == [[False] + [True] * 9]  # rate 0: only the zero


def test_rewind_sets_weights_to_initial_times_mask_biases_to_initial_and_keeps_batchnorm_statistics() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()(torch.randn(8, 3, 6, 6))  # running statistics move
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    stats = model[1].running_mean.clone()
    masks = authors_masks(model, 0.5)
    rewind_authors(model, masks, initial)
    assert torch.equal(model[0].weight, initial["0.weight"] * masks["0.weight"])
    assert torch.equal(model[0].bias, initial["0.bias"]) and torch.equal(model[1].bias, initial["1.bias"])
    assert torch.equal(model[1].weight, initial["1.weight"] * masks["1.weight"])  # BatchNorm scales are pruned too
    assert torch.equal(model[1].running_mean, stats) and not torch.equal(stats, initial["1.running_mean"])


def test_every_authors_regime_switches_what_its_name_says() -> None:
    params = as_settings({"lottery_rate": 20, "authors_rounds": 2})
    dense = TrainConfig(epochs=30, schedule_unit="epoch")
    code, unpruned = regimes.get("authors_code"), regimes.get("authors_unpruned")
    assert code.levels(params) == pytest.approx([0.2, 0.36]) and unpruned.levels(params) == [0.0]
    assert code.recipe(dense, params).schedule == "constant" and not code.enforce_mask
    assert regimes.get("authors_lottery").recipe(dense, params) == dense
    switches = {name: (r.enforce_mask, r.annealed) for name, r in regimes.REGIMES.items() if r.method == "authors"}
    assert sorted(switches.values()) == [(False, False), (False, False), (False, True), (True, False), (True, True)]


def test_an_epoch_schedule_steps_once_per_epoch() -> None:
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = lr_schedule(opt, TrainConfig(epochs=4, schedule_unit="epoch"), steps_per_epoch=100)
    rates = []
    for _ in range(4):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert rates == pytest.approx([1.0, 0.853553, 0.5, 0.146447], abs=1e-6)  # (1 + cos(pi e / 4)) / 2


@pytest.fixture(scope="module")
def dense_run(synthetic_root, tmp_path_factory) -> Iterator[tuple]:
    splits = pipeline.load_splits(synthetic_root)
    # 64 px: at 32 px the last stage's feature map is 1 x 1, so its 3 x 3 kernels' outer taps get no gradient at all
    cfg = TrainConfig(epochs=1, batch_size=8, image_size=64, lr=3e-3, schedule_unit="epoch", bf16=False)
    folder = tmp_path_factory.mktemp("authors") / "dense"
    pipeline.train_dense(splits, cfg, folder, device="cpu", progress=False)
    yield splits, cfg, folder
    shutil.rmtree(folder.parent)


@pytest.mark.parametrize("enforce", [False, True], ids=["authors_code", "mask_held"])
def test_after_one_round_the_weights_grew_back_unless_the_mask_is_held(dense_run, tmp_path, enforce) -> None:
    """Their loop saves a dense network at a constant rate; with the mask held it keeps exactly its mask."""
    splits, cfg, dense_dir = dense_run
    recipe = dataclasses.replace(cfg, epochs=2, schedule="constant")
    (report,) = authors_schedule(dense_dir, 1, 0.2, recipe, *splits, tmp_path / "rounds", enforce_mask=enforce,
                                 device="cpu", progress=False)
    assert [h["lr"] for h in report["history"]] == [recipe.lr, recipe.lr]
    assert report["mask_sparsity"] == pytest.approx(0.2, abs=0.01)
    model = pipeline.resnet18()
    checkpoint.load_model_state(model, checkpoint.load(tmp_path / "rounds" / "round_1" / "final.pt")["model"])
    if enforce:
        assert global_sparsity(model) == pytest.approx(report["mask_sparsity"], abs=1e-9)
        assert report["sparsity"]["global"] == pytest.approx(report["mask_sparsity"], abs=1e-9)
    else:
        # regrowth: a masked weight with a gradient moves at the first step. What stays at zero has none: a
        # BatchNorm scale masked in front of a ReLU, with its bias rewound to 0, gives the ReLU exactly 0 (whose
        # gradient is 0), so that channel is dead for good, and with it the weights that only feed it
        assert global_sparsity(model) < report["mask_sparsity"] / 4
        assert report["sparsity"]["global"] == pytest.approx(global_sparsity(model))
        masks = authors_masks(_dense(dense_dir), 0.2)
        for name, p in model.named_parameters():
            if name.endswith("bn1.weight"):  # the stem's and every block's first BatchNorm: a ReLU follows
                assert torch.all(p[~masks[name]] == 0) and torch.all(p[masks[name]] != 0), name


def test_a_second_round_prunes_the_last_epoch_and_its_mask_accumulates(dense_run, tmp_path) -> None:
    splits, cfg, dense_dir = dense_run
    recipe = dataclasses.replace(cfg, epochs=1, schedule="constant")
    reports = authors_schedule(dense_dir, 2, 0.2, recipe, *splits, tmp_path / "rounds", enforce_mask=False,
                               device="cpu", progress=False)
    first, second = (r["mask_sparsity"] for r in reports)
    assert 0.2 - 0.01 < first < second <= 0.4 + 0.01  # the union of two 20 % cuts
    last = checkpoint.load(tmp_path / "rounds" / "round_1" / "last.pt")["model"]
    model = pipeline.resnet18()
    checkpoint.load_model_state(model, last)
    masks = authors_masks(model, 0.2, authors_masks(_dense(dense_dir), 0.2))
    assert mask_sparsity(masks, model) == pytest.approx(second)
    # run again: both rounds are reused, not retrained
    again = authors_schedule(dense_dir, 2, 0.2, recipe, *splits, tmp_path / "rounds", enforce_mask=False,
                             device="cpu", progress=False)
    assert [r["mask_sparsity"] for r in again] == [first, second]


def _dense(dense_dir) -> nn.Module:
    model = pipeline.resnet18()
    checkpoint.load_model_state(model, checkpoint.load(dense_dir / "last.pt")["model"])
    return model
