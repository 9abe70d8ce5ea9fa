"""prunelib.data on a synthetic ImageNette (prunelib.synthetic); one `data` test on the real val split."""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import transforms as T

from prunelib import data, paths
from prunelib.data import DataError
from prunelib.synthetic import make_imagenette


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A fresh synthetic copy a test may damage."""
    return make_imagenette(tmp_path / "ds", n_train=2, n_val=1, size=16)


# ------------------------------------------------------------------------------------------ locate
def test_locate_imagefolder_layout(synthetic_root: Path) -> None:
    assert data.locate(synthetic_root) == synthetic_root


def test_locate_torchvision_layout(tmp_path: Path) -> None:
    make_imagenette(tmp_path / "imagenette2", n_train=1, n_val=1, size=16)
    assert data.locate(tmp_path) == tmp_path / "imagenette2"


def test_locate_source_order(synthetic_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRUNELIB_DATA", str(synthetic_root))
    assert data.locate() == synthetic_root
    other = make_imagenette(tmp_path / "other", n_train=1, n_val=1, size=16)
    assert data.locate(other) == other  # an explicit path wins over the environment
    monkeypatch.delenv("PRUNELIB_DATA")
    # the working folder never changes what is read: its data/ is not the project's, and a relative path that a
    # result recorded ("data", "../shared/...") is the project's, wherever the command runs
    monkeypatch.chdir(tmp_path)
    make_imagenette(tmp_path / "data", n_train=1, n_val=1, size=16)
    project = tmp_path / "project"
    monkeypatch.setattr(paths, "ROOT", project)
    with pytest.raises(DataError, match=f"{project / 'data'} .*does not exist"):
        data.locate()
    make_imagenette(project / "data", n_train=1, n_val=1, size=16)
    assert data.locate() == data.locate("data") == project / "data"
    monkeypatch.setenv("PRUNELIB_DATA", "data")  # what a user typed: from the working folder
    assert data.locate() == tmp_path / "data"


def test_locate_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"does not exist.*--data PATH.*PRUNELIB_DATA"):
        data.locate(tmp_path / "nowhere")


def test_locate_wrong_layout(tmp_path: Path) -> None:
    (tmp_path / "train").mkdir()  # no val/
    with pytest.raises(DataError, match="wrong layout"):
        data.locate(tmp_path)


def test_missing_and_extra_class_folders_are_named(dataset: Path) -> None:
    shutil.rmtree(dataset / "val" / "n03000684")
    (dataset / "val" / "n99999999").mkdir()
    with pytest.raises(DataError, match=r"missing \['n03000684'\], unexpected \['n99999999'\]"):
        data.locate(dataset)


def test_empty_split(dataset: Path) -> None:
    for f in (dataset / "val").glob("*/*.JPEG"):
        f.unlink()
    with pytest.raises(DataError, match="split 'val' .* is empty"):
        data.load_split(dataset, "val", verify=False)


def test_corrupt_jpeg_is_named(dataset: Path) -> None:
    bad = dataset / "train" / "n03394916" / "n03394916_00001.JPEG"
    bad.write_bytes(b"not a jpeg at all")
    with pytest.raises(DataError, match=f"cannot read image .*{bad.name}"):
        data.load_split(dataset, "train", size=16, verify=False)
    with pytest.raises(DataError, match=f"do not match SHA256SUMS: train/n03394916/{bad.name}"):
        data.load_split(dataset, "train", size=16)


def test_download_offline_raises_with_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets.imagenette as tv_imagenette

    def offline(*args, **kwargs):
        raise URLError("no network")
    monkeypatch.setattr(tv_imagenette, "download_and_extract_archive", offline)
    with pytest.raises(DataError, match=r"download.* failed .*URLError.*--data PATH.*PRUNELIB_DATA"):
        data.locate(tmp_path / "fresh", download=True)


def test_download_uses_torchvision_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets.imagenette as tv_imagenette
    calls = []

    def fake_download(url, root, md5=None):  # what the real archive extracts to: root/imagenette2/{train,val}
        calls.append(url)
        make_imagenette(Path(root) / Path(url).stem, n_train=1, n_val=1, size=16)
    monkeypatch.setattr(tv_imagenette, "download_and_extract_archive", fake_download)
    assert data.locate(tmp_path / "fresh", download=True) == tmp_path / "fresh" / "imagenette2"
    assert calls == ["https://s3.amazonaws.com/fast-ai-imageclas/imagenette2.tgz"]  # once: val reuses it


# --------------------------------------------------------------------------------------- checksums
def test_verify_checksums_stamp_makes_second_call_free(dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = []
    real = data._sha256_file
    monkeypatch.setattr(data, "_sha256_file", lambda p: hashed.append(p) or real(p))
    assert data.verify_checksums(dataset) is True
    assert len(hashed) == 30  # 2 train + 1 val per class
    monkeypatch.setattr(data, "_sha256_file", lambda p: pytest.fail("re-hashed a verified file"))
    assert data.verify_checksums(dataset) is True


def test_verify_checksums_missing_file_and_no_sums(dataset: Path) -> None:
    (dataset / "val" / "n01440764" / "n01440764_00000.JPEG").unlink()
    with pytest.raises(DataError, match="missing: val/n01440764/n01440764_00000.JPEG"):
        data.verify_checksums(dataset)
    (dataset / "SHA256SUMS").unlink()
    assert data.verify_checksums(dataset) is False


def test_modified_file_is_rechecked_after_stamp(dataset: Path) -> None:
    assert data.verify_checksums(dataset)
    f = dataset / "train" / "n03888257" / "n03888257_00000.JPEG"
    img = np.array(Image.open(f))
    Image.fromarray(255 - img).save(f, format="JPEG")
    os.utime(f, ns=(f.stat().st_atime_ns, f.stat().st_mtime_ns + 10**9))
    with pytest.raises(DataError, match="n03888257_00000.JPEG"):
        data.verify_checksums(dataset)


# ------------------------------------------------------------------------------------------ splits
def test_load_split_order_dtype_and_pixels(synthetic_root: Path) -> None:
    val = data.load_split(synthetic_root, "val", size=32)
    assert val.images.shape == (20, 3, 32, 32) and val.images.dtype == torch.uint8
    assert val.labels.dtype == torch.int64 and val.labels.tolist() == [c for c in range(10) for _ in range(2)]
    assert val.files == sorted(val.files) and val.files[0] == "val/n01440764/n01440764_00000.JPEG"
    assert val.name == "val" and len(val) == 20
    pil = np.array(Image.open(synthetic_root / val.files[7]).convert("RGB"))
    assert torch.equal(val.images[7], torch.from_numpy(pil).permute(2, 0, 1))
    small = data.load_split(synthetic_root, "val", size=20)  # squash-resized with PIL bilinear
    pil20 = np.array(Image.open(synthetic_root / val.files[7]).convert("RGB").resize((20, 20), Image.BILINEAR))
    assert torch.equal(small.images[7], torch.from_numpy(pil20).permute(2, 0, 1))


def test_cache_hit_does_not_decode(synthetic_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = data.load_split(synthetic_root, "train", size=24)
    monkeypatch.setattr(data, "_decode", lambda path, size: pytest.fail(f"decoded {path} again"))
    second = data.load_split(synthetic_root, "train", size=24)
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)
    assert first.files == second.files
    with pytest.raises(pytest.fail.Exception):  # cache=False really decodes
        data.load_split(synthetic_root, "train", size=24, cache=False)


def test_subset_and_per_class_subset(synthetic_root: Path) -> None:
    train = data.load_split(synthetic_root, "train", size=32)
    sub = train.subset([5, 0, 39])
    assert sub.labels.tolist() == [1, 0, 9] and sub.files == [train.files[i] for i in (5, 0, 39)]
    assert torch.equal(sub.images[0], train.images[5])
    a, b = data.per_class_subset(train, 2, seed=3), data.per_class_subset(train, 2, seed=3)
    assert a.files == b.files and torch.equal(a.images, b.images)
    assert torch.bincount(a.labels, minlength=10).tolist() == [2] * 10
    assert data.per_class_subset(train, 2, seed=4).files != a.files
    with pytest.raises(DataError, match=r"class 0 \(tench, n01440764\) has 4 train images"):
        data.per_class_subset(train, 5)


# -------------------------------------------------------------------------------------- transforms
def test_eval_batch_of_constant_image_is_analytic() -> None:
    value = torch.tensor([200, 100, 0], dtype=torch.uint8)
    images = value.view(1, 3, 1, 1).expand(2, 3, 40, 30).contiguous()
    expected = (value.float() / 255 - torch.tensor(data.MEAN)) / torch.tensor(data.STD)
    for size in (40, 16):
        x = data.eval_batch(images, size)
        assert x.shape == (2, 3, size, size)
        torch.testing.assert_close(x, expected.view(1, 3, 1, 1).expand_as(x), atol=1e-5, rtol=0)
    torch.testing.assert_close(data.denormalize(x), value.float().view(1, 3, 1, 1).expand_as(x) / 255)


def test_eval_batch_batched_equals_unbatched_and_matches_paper_eval(synthetic_root: Path) -> None:
    val = data.load_split(synthetic_root, "val", size=32)
    x = data.eval_batch(val.images, 32)
    assert torch.equal(x[3], data.eval_batch(val.images[3:4], 32)[0])
    _, eval_tf = data.paper_transforms(32)
    paper = eval_tf(Image.open(synthetic_root / val.files[3]).convert("RGB"))
    torch.testing.assert_close(x[3], paper, atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="uint8"):
        data.eval_batch(x, 32)


@pytest.mark.parametrize("shape", [(224, 224), (32, 48), (3, 200), (200, 3)])
def test_crop_params_match_torchvision_and_stay_in_bounds(shape: tuple[int, int]) -> None:
    height, width = shape
    img = torch.zeros(3, height, width)
    for seed in range(30):
        torch.manual_seed(seed)
        expected = T.RandomResizedCrop.get_params(img, [0.08, 1.0], [3 / 4, 4 / 3])
        i, j, h, w = data.crop_params(height, width, torch.Generator().manual_seed(seed))
        assert (i, j, h, w) == expected
        assert 0 < h <= height and 0 < w <= width and 0 <= i <= height - h and 0 <= j <= width - w
        if shape == (224, 224):
            assert 0.08 * 224 * 224 * 0.9 <= h * w <= 224 * 224 and 3 / 4 * 0.9 <= w / h <= 4 / 3 * 1.1


def test_train_batch_deterministic_and_batch_invariant(synthetic_root: Path) -> None:
    train = data.load_split(synthetic_root, "train", size=32)
    run = lambda imgs, seed: data.train_batch(imgs, 24, torch.Generator().manual_seed(seed))  # noqa: E731
    a = run(train.images[:8], 0)
    assert a.shape == (8, 3, 24, 24) and a.dtype == torch.float32
    assert torch.equal(a, run(train.images[:8], 0))
    assert not torch.equal(a, run(train.images[:8], 1))
    assert torch.equal(a[0], run(train.images[:1], 0)[0])  # sample 0 draws first either way
    const = torch.full((4, 3, 32, 32), 128, dtype=torch.uint8)  # crops and flips of a constant are constant
    expected = (128 / 255 - torch.tensor(data.MEAN)) / torch.tensor(data.STD)
    torch.testing.assert_close(run(const, 0), expected.view(1, 3, 1, 1).expand(4, 3, 24, 24), atol=1e-5, rtol=0)


def test_train_batch_flips_about_half() -> None:
    ramp = torch.arange(64, dtype=torch.uint8).repeat(200, 3, 64, 1)  # brightness grows left to right
    x = data.train_batch(ramp, 16, torch.Generator().manual_seed(0))
    flipped = (x[:, 0, :, 0] > x[:, 0, :, -1]).all(dim=1).float().mean().item()
    assert 0.35 < flipped < 0.65


def test_batches_deterministic_shuffled_and_complete(synthetic_root: Path) -> None:
    train = data.load_split(synthetic_root, "train", size=32)
    epoch0 = list(data.batches(train, 16, train=True, size=24, seed=1, epoch=0))
    assert len(epoch0) == 2 and all(x.shape == (16, 3, 24, 24) for x, _ in epoch0)  # 40 images, drop_last
    again = list(data.batches(train, 16, train=True, size=24, seed=1, epoch=0))
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(epoch0, again))
    epoch1 = list(data.batches(train, 16, train=True, size=24, seed=1, epoch=1))
    assert not torch.equal(epoch0[0][1], epoch1[0][1])
    evals = list(data.batches(train, 16, train=False, size=32))
    assert [len(y) for _, y in evals] == [16, 16, 8]
    assert torch.equal(torch.cat([y for _, y in evals]), train.labels)
    assert torch.equal(torch.cat([x for x, _ in evals]), data.eval_batch(train.images, 32))


def test_paper_transforms_shapes(synthetic_root: Path) -> None:
    train_tf, eval_tf = data.paper_transforms(24)
    img = Image.open(next((synthetic_root / "train").glob("*/*.JPEG")))
    assert train_tf(img).shape == eval_tf(img).shape == (3, 24, 24)


# ------------------------------------------------------------------------------------ real dataset
REAL_VAL_COUNTS = [387, 395, 357, 386, 409, 394, 389, 419, 399, 390]  # shared/data/README.md


@pytest.mark.data
def test_real_val_split(real_imagenette: Path) -> None:
    root = data.locate(real_imagenette)
    val = data.load_split(root, "val", size=224)
    assert val.images.shape == (3925, 3, 224, 224)
    assert torch.bincount(val.labels, minlength=10).tolist() == REAL_VAL_COUNTS


@pytest.fixture(scope="module")
def cache_seen_by_a_module_fixture() -> Path:
    return paths.cache_dir()


def test_tests_on_synthetic_data_never_use_the_project_cache(cache_seen_by_a_module_fixture: Path) -> None:
    """A module-scoped fixture runs before any function-scoped one: the session redirects the cache before both."""
    for seen in (cache_seen_by_a_module_fixture, paths.cache_dir()):
        assert not seen.resolve().is_relative_to(paths.ROOT.resolve()), seen


@pytest.mark.data
def test_tests_on_the_real_data_keep_the_real_cache() -> None:
    """The decoded real images are made once per machine: the session's temporary cache is not theirs."""
    from conftest import _CALLER_CACHE
    assert paths.cache_dir() == (Path(_CALLER_CACHE) if _CALLER_CACHE else paths.ROOT / ".cache")


def test_notebook_kernels_get_the_callers_cache_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """nbval's kernels inherit the environment: the conftest undoes the session's redirect before a notebook's
    kernel starts, so the notebooks reuse the project's decoded real images."""
    from conftest import _CALLER_CACHE, pytest_runtest_protocol
    redirected = os.environ["PRUNELIB_CACHE"]
    assert redirected != _CALLER_CACHE  # the session's redirect is in force here
    monkeypatch.setenv("PRUNELIB_CACHE", redirected)  # so that it is in force again after this test

    class Item:  # what the hook reads of a test item
        def __init__(self, path: str) -> None:
            self.path = Path(path)

    pytest_runtest_protocol(Item("tests/test_data.py"), None)
    assert os.environ["PRUNELIB_CACHE"] == redirected
    pytest_runtest_protocol(Item("notebooks/01_training.ipynb"), None)
    assert os.environ.get("PRUNELIB_CACHE") == _CALLER_CACHE
