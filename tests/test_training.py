"""Training: Ranger's pieces, resumption after an interruption, checkpoints loaded with weights_only."""
from __future__ import annotations

import dataclasses
import json

import pytest
import torch
from torch import nn

from prunelib import checkpoint, data, paths, pipeline, pruning
from prunelib.__main__ import main as cli
from prunelib.networks import load_network
from prunelib.optim import Ranger
from prunelib.training import TrainConfig, evaluate, train

# fp32: a CPU with AVX2 alone emulates bf16, ~30x slower at this size; the first test trains under bf16 autocast
CFG = TrainConfig(epochs=3, batch_size=8, lr=3e-3, image_size=32, seed=0, bf16=False)


def _run(model: nn.Module, splits, run_dir, cfg: TrainConfig = CFG) -> dict:
    return train(model, *splits, cfg, run_dir, progress=False)


@pytest.fixture(scope="module")
def splits(synthetic_root):
    return data.load_split(synthetic_root, "train", size=32), data.load_split(synthetic_root, "val", size=32)


def test_ranger_with_alpha_one_and_no_centralisation_is_radam() -> None:
    torch.manual_seed(0)
    a, b = nn.Linear(5, 3), nn.Linear(5, 3)
    b.load_state_dict(a.state_dict())
    opt_a = Ranger(a.parameters(), lr=1e-2, weight_decay=1e-3, alpha=1.0, centralize=False)
    opt_b = torch.optim.RAdam(b.parameters(), lr=1e-2, betas=(0.95, 0.999), eps=1e-5, weight_decay=1e-3,
                              decoupled_weight_decay=True)
    for _ in range(10):
        x = torch.randn(7, 5)
        for m, o in ((a, opt_a), (b, opt_b)):
            o.zero_grad()
            m(x).square().sum().backward()
            o.step()
    assert torch.allclose(a.weight, b.weight, atol=1e-7)


def test_ranger_centralises_and_synchronises() -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 4, 3)
    opt = Ranger(conv.parameters(), lr=1e-2, k=3, alpha=0.5)
    for step in range(1, 7):
        opt.zero_grad()
        conv(torch.randn(2, 2, 6, 6)).sum().backward()
        opt.step()
        grad_means = conv.weight.grad.mean(dim=(1, 2, 3))
        assert torch.allclose(grad_means, torch.zeros(4), atol=1e-6)  # centralised in place
        if step % 3 == 0:
            assert torch.equal(conv.weight, opt.state[conv.weight]["slow"])


def test_training_learns_and_writes_checkpoints(splits, tmp_path) -> None:
    model = pipeline.resnet18(seed=0)
    chance_loss = torch.log(torch.tensor(10.0)).item()
    result = _run(model, splits, tmp_path, dataclasses.replace(CFG, bf16=True))  # the study's precision
    assert result["history"][-1]["train_loss"] < chance_loss
    assert {p.name for p in tmp_path.iterdir()} >= {"last.pt", "best.pt", "history.json"}
    state = torch.load(tmp_path / "last.pt", weights_only=True)  # plain state dicts only
    assert state["epoch"] == 2 and len(json.loads((tmp_path / "history.json").read_text())) == 3
    # the returned model is the best epoch's
    assert evaluate(model, splits[1], image_size=32)["top1"] == pytest.approx(result["val_top1"])
    assert json.loads((tmp_path / "run.json").read_text())["recipe"]["bf16"] is True


def test_interrupted_training_resumes_to_identical_weights(splits, tmp_path, monkeypatch, capsys) -> None:
    reference = pipeline.resnet18(seed=0)
    _run(reference, splits, tmp_path / "uninterrupted")

    real_batches = data.batches

    def dying_batches(*args, epoch: int, **kwargs):
        for i, batch in enumerate(real_batches(*args, epoch=epoch, **kwargs)):
            if epoch == 1 and i == 2:
                raise KeyboardInterrupt("killed mid-epoch")
            yield batch

    monkeypatch.setattr(data, "batches", dying_batches)
    with pytest.raises(KeyboardInterrupt):
        _run(pipeline.resnet18(seed=0), splits, tmp_path / "interrupted")
    assert torch.load(tmp_path / "interrupted" / "last.pt", weights_only=True)["epoch"] == 0
    monkeypatch.setattr(data, "batches", real_batches)
    resumed = pipeline.resnet18(seed=123)  # a fresh process would build a differently seeded model: it is overwritten
    train(resumed, *splits, CFG, tmp_path / "interrupted", progress=True)
    # the message names the run folder as the book prints paths (relative to the project), not as this machine does
    said = capsys.readouterr().out
    assert f"resuming {paths.portable(tmp_path / 'interrupted')} at epoch 2/{CFG.epochs}" in said
    for (name, a), b in zip(reference.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    # and the same files, byte for byte: a network retrained from the same inputs keeps the digest its results
    # recorded; last.pt also keeps its epochs' timings, so what identifies its weights is their state digest
    a, b = tmp_path / "uninterrupted", tmp_path / "interrupted"
    assert checkpoint.file_sha256(a / "best.pt") == checkpoint.file_sha256(b / "best.pt")
    assert checkpoint.state_digest(a / "last.pt") == checkpoint.state_digest(b / "last.pt")
    checkpoint.save({"model": pipeline.resnet18(seed=1).state_dict()}, tmp_path / "other.pt")
    assert checkpoint.state_digest(a / "last.pt") != checkpoint.state_digest(tmp_path / "other.pt")


def test_a_finished_run_is_reused_and_says_so(splits, tmp_path, capsys) -> None:
    first = _run(pipeline.resnet18(seed=0), splits, tmp_path)
    again = train(pipeline.resnet18(seed=123), *splits, CFG, tmp_path, progress=True)
    said = capsys.readouterr().out
    assert f"{paths.portable(tmp_path)}: all {CFG.epochs} epochs were trained earlier" in said
    assert "epoch 1/" not in said  # nothing was trained again
    assert again["val_top1"] == first["val_top1"] and again["best_epoch"] == first["best_epoch"]


def test_resume_with_other_config_is_refused(splits, tmp_path) -> None:
    cfg = TrainConfig(epochs=1, batch_size=8, image_size=32, bf16=False)
    _run(pipeline.resnet18(seed=0), splits, tmp_path, cfg)
    with pytest.raises(ValueError, match=r"holds a run of other inputs \(recipe.lr: was 0.001, now 0.5\)"):
        _run(pipeline.resnet18(seed=0), splits, tmp_path, dataclasses.replace(cfg, lr=0.5))


def test_bad_config_and_missing_checkpoint(tmp_path) -> None:
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(FileNotFoundError, match="nothing.pt"):
        checkpoint.load(tmp_path / "nothing.pt")
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="garbage.pt"):
        checkpoint.load(tmp_path / "garbage.pt")


def test_cli_train_then_prune(synthetic_root, tmp_path, capsys) -> None:
    common = ["--data", str(synthetic_root), "--image-size", "32", "--batch-size", "8", "--subset-per-class", "0",
              "--val-per-class", "0"]
    assert cli(["train", *common, "--epochs", "1", "--out", str(tmp_path / "dense")]) == 0
    assert cli(["prune", *common, "--dense", str(tmp_path / "dense"), "--levels", "50,90",
                "--finetune-epochs", "1", "--out", str(tmp_path / "global")]) == 0
    out = capsys.readouterr().out
    assert "50.0%: sparsity 0.5000" in out and "90.0%: sparsity 0.9000" in out
    # the smoke profile's recipe is fp32 (bf16: false), which the CLI keeps unless told otherwise
    assert json.loads((tmp_path / "dense" / "run.json").read_text())["recipe"]["bf16"] is False
    model = load_network(tmp_path / "global" / "level_90" / "final.pt")
    assert pruning.global_sparsity(model) == pytest.approx(0.9, abs=1e-4)
    # a second run finds every level done and recomputes nothing
    mtime = (tmp_path / "global" / "level_90" / "final.pt").stat().st_mtime
    cli(["prune", *common, "--dense", str(tmp_path / "dense"), "--levels", "50,90", "--finetune-epochs", "1",
         "--out", str(tmp_path / "global")])
    assert (tmp_path / "global" / "level_90" / "final.pt").stat().st_mtime == mtime


def test_cli_rejects_bad_levels(capsys) -> None:
    with pytest.raises(SystemExit):
        cli(["prune", "--levels", "10,150"])
    assert "percentages in (0, 100)" in capsys.readouterr().err


def test_a_non_finite_loss_stops_training_before_the_epoch_is_saved(splits, tmp_path) -> None:
    from prunelib.training import TrainingDiverged
    cfg = dataclasses.replace(CFG, epochs=1, lr=1e30, optimizer="sgd")
    model = pipeline.resnet18(seed=0)
    with pytest.raises(TrainingDiverged, match=r"the training loss is (nan|inf) at epoch 1, step \d"):
        _run(model, splits, tmp_path / "run", cfg)
    assert not (tmp_path / "run" / "history.json").exists() and not (tmp_path / "run" / "last.pt").exists()


def test_cli_train_refuses_a_rate_that_is_not_finite(capsys) -> None:
    with pytest.raises(SystemExit):
        cli(["train", "--lr", "inf", "--epochs", "1"])
    assert "--lr: expected a finite number > 0, got 'inf'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="lr must be a finite number"):
        TrainConfig(lr=float("nan"))



def test_a_training_that_must_reproduce_a_recorded_network_checks_each_epoch(splits, tmp_path) -> None:
    from prunelib.training import NotReproduced
    recorded = _run(pipeline.resnet18(seed=0), splits, tmp_path / "measured")["history"]
    half_image = 0.5 / len(splits[1])
    again = train(pipeline.resnet18(seed=0), *splits, CFG, tmp_path / "again", progress=False, expect=recorded)
    assert [h["val_top1"] for h in again["history"]] == [h["val_top1"] for h in recorded]
    assert (checkpoint.file_sha256(tmp_path / "again" / "best.pt")
            == checkpoint.file_sha256(tmp_path / "measured" / "best.pt"))

    def shifted(epoch: int, by: float) -> list[dict]:
        return [{**h, "val_top1": h["val_top1"] + by * (h["epoch"] == epoch)} for h in recorded]

    other = tmp_path / "other"
    with pytest.raises(NotReproduced, match=rf"{paths.portable(other)}: epoch 2 reaches val top-1 "
                                            r"\d\.\d{4} here, but the network the results measured reached "
                                            r"\d\.\d{4} at that epoch: this machine does not train the network"):
        train(pipeline.resnet18(seed=0), *splits, CFG, other, progress=False, expect=shifted(1, 0.1))
    assert torch.load(other / "last.pt", weights_only=True)["epoch"] == 1  # trained up to that epoch, no further
    assert len(json.loads((other / "history.json").read_text())) == 2

    saved = (other / "last.pt").stat().st_mtime_ns  # resumed: its saved epochs are checked before any training
    with pytest.raises(NotReproduced, match="epoch 1 reaches"):
        train(pipeline.resnet18(seed=0), *splits, CFG, other, progress=False, expect=shifted(0, -0.1))
    assert (other / "last.pt").stat().st_mtime_ns == saved
    with pytest.raises(NotReproduced, match="epoch 3 reaches"):  # all epochs trained earlier: checked when reused
        train(pipeline.resnet18(seed=0), *splits, CFG, tmp_path / "again", progress=False, expect=shifted(2, 0.1))
    # less than half an image apart is the same accuracy; epochs beyond the recorded ones are not checked (a
    # recorded history one epoch long still lets the run's three stand)
    train(pipeline.resnet18(seed=0), *splits, CFG, tmp_path / "again", progress=False,
          expect=shifted(2, 0.9 * half_image))
    train(pipeline.resnet18(seed=0), *splits, CFG, tmp_path / "again", progress=False, expect=recorded[:1])
