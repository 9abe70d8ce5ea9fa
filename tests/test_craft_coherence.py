"""Measured concept views (prunelib.craft.coherence) move the right way on constructed cases; gallery files."""
import itertools

import matplotlib
import numpy as np
import pytest
import torch
from torchvision.models import resnet18

from prunelib.craft import (Craft, batched_features, coherence_baseline, concept_coherence, concept_metrics,
                            concept_similarity, crop_coherence, extract_crops, gallery_data, importance_entropy,
                            split_resnet)
from prunelib.craft.gallery import load_concepts, save_concepts
from prunelib.figures.concepts import plot_concept_gallery

matplotlib.use("Agg")


def test_concept_similarity_worse_with_duplicated_concepts():
    eye = torch.eye(4, 16)  # disjoint channels: perfectly distinct
    assert concept_similarity(eye) == pytest.approx(0.0)
    w = torch.rand(4, 16, generator=torch.Generator().manual_seed(0))
    dup = w.clone()
    dup[1] = dup[0] * 3.0  # a duplicated concept (scale does not matter)
    assert concept_similarity(dup) > concept_similarity(w)
    # brute-force definition: mean over pairs i < j
    cos = [float(torch.nn.functional.cosine_similarity(w[i], w[j], dim=0)) for i, j in itertools.combinations(range(4), 2)]
    assert concept_similarity(w) == pytest.approx(np.mean(cos), rel=1e-6)


def test_coherence_baseline_is_the_expected_random_subset_coherence():
    pool = torch.rand(12, 5, generator=torch.Generator().manual_seed(0))
    k = 3
    subsets = torch.tensor(list(itertools.combinations(range(12), k)))  # all 220 subsets
    assert float(crop_coherence(pool[subsets]).mean()) == pytest.approx(coherence_baseline(pool), rel=1e-9)


def _object_images(n_per_object: int, size: int = 48) -> tuple[torch.Tensor, torch.Tensor]:
    """Four synthetic 'objects' (a colour + a stripe orientation/frequency each), slightly jittered."""
    gen = torch.Generator().manual_seed(0)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    specs = [((1.0, 0.1, 0.1), xx, 3), ((0.1, 0.9, 0.2), yy, 7), ((0.1, 0.2, 1.0), xx + yy, 5), ((0.9, 0.9, 0.1), xx - yy, 11)]
    imgs, labels = [], []
    for obj, (colour, coord, period) in enumerate(specs):
        for _ in range(n_per_object):
            stripes = (torch.sin(2 * np.pi * (coord + torch.rand(1, generator=gen) * period) / period) > 0).float()
            img = torch.tensor(colour)[:, None, None] * (0.4 + 0.6 * stripes)
            imgs.append((img + 0.05 * torch.randn(img.shape, generator=gen) - 0.45) / 0.25)
            labels.append(obj)
    return torch.stack(imgs), torch.tensor(labels)


def test_crops_from_one_object_more_coherent_than_mixed():
    torch.manual_seed(0)
    g, _ = split_resnet(resnet18(weights=None, num_classes=10).eval())
    imgs, labels = _object_images(3)
    crops = extract_crops(imgs, 16)  # 3 x 3 crops per 48 px image (starts 0, 12, 24)
    per_img = crops.shape[0] // imgs.shape[0]
    feats = batched_features(g, crops, 48)
    obj_of_crop = labels.repeat_interleave(per_img)
    by_obj = [torch.nonzero(obj_of_crop == o).squeeze(1) for o in range(4)]
    k = 8
    one = torch.stack([feats[by_obj[o][:k]] for o in range(4)])  # (4, k, d): k crops of one object
    # k crops cycling over the 4 objects (2 of each), a different selection per row
    mixed = torch.stack([feats[torch.stack([by_obj[(o + j) % 4][r * 4 + j] for j in range(k)])] for r, o in
                         enumerate(range(4))])
    assert crop_coherence(one).min() > crop_coherence(mixed).max()
    res = concept_coherence(one, feats)
    assert res["gain"] > 0 and res["gain"] > concept_coherence(mixed, feats)["gain"]


def test_importance_entropy_extremes_and_order():
    assert importance_entropy([0.0, 2.0, 0.0, 0.0]) == pytest.approx(0.0)
    assert importance_entropy(np.ones(10)) == pytest.approx(1.0)
    assert importance_entropy([0.7, 0.1, 0.1, 0.1]) < importance_entropy([0.4, 0.2, 0.2, 0.2])
    with pytest.raises(ValueError, match="all zero"):
        importance_entropy([0.0, 0.0])


@pytest.fixture(scope="module")
def run():
    torch.manual_seed(0)
    model = resnet18(weights=None, num_classes=10).eval()
    g, h = split_resnet(model)
    imgs, _ = _object_images(2, size=32)
    craft = Craft(g, h, n_concepts=4, patch_size=16, nmf_max_iter=500).fit(imgs)
    return craft, imgs, craft.importance(imgs, 4)


def test_gallery_save_load_plot_roundtrip(run, tmp_path):
    craft, imgs, imp = run
    pixels = ((imgs * 0.25 + 0.45).clamp(0, 1) * 255).round().to(torch.uint8)
    gal = gallery_data(craft, pixels, imp, n_show=3, k=2)
    assert gal["crops"].shape == (3, 2, 16, 16, 3) and gal["crops"].dtype == np.uint8
    assert list(gal["importances"]) == sorted(imp, reverse=True)[:3]
    metrics = concept_metrics(craft, imp, k=2)
    assert set(metrics) == {"concept_similarity", "coherence", "importance_entropy", "reconstruction_error"}
    assert metrics["importance_entropy"] == pytest.approx(importance_entropy(imp))
    dead = concept_metrics(craft, np.zeros_like(imp), k=2)  # a network whose class score ignores concepts
    assert dead["importance_entropy"] is None and dead["concept_similarity"] == metrics["concept_similarity"]
    path = save_concepts(tmp_path / "church_p50", gal, metrics, {"class_name": "church", "pruning": "50%"})
    back = load_concepts(path)
    assert back["crops"].shape == gal["crops"].shape and back["crops"].dtype == np.uint8
    error = np.abs(back["crops"].astype(int) - gal["crops"])  # JPEG: noisy hard-edged stripes, its worst case
    assert error.mean() < 8 and error.max() <= 48
    np.testing.assert_allclose(back["importances"], gal["importances"])
    assert back["metrics"]["coherence"]["baseline"] == pytest.approx(metrics["coherence"]["baseline"])
    fig = plot_concept_gallery(back)
    assert len(fig.axes) == 3 * 2 and "church" in fig._suptitle.get_text()
    assert f"S={gal['importances'][0]:.2f}" in fig.axes[0].get_ylabel()
    with pytest.raises(ValueError, match="does not exist"):
        load_concepts(tmp_path / "missing")
    with pytest.raises(ValueError, match="uint8"):
        gallery_data(craft, imgs, imp)


def test_concept_metrics_plot_leaves_a_gap_where_a_metric_is_undefined():
    from prunelib.figures.concepts import plot_concept_metrics
    row = {"coherence": {"gain": 0.1}, "concept_similarity": 0.2, "importance_entropy": 0.5, "reconstruction_error": 0.3}
    dead = {**row, "importance_entropy": None}
    fig = plot_concept_metrics({"levels": [0.0, 0.98], "classes": ["church"],
                                "metrics": {"church": {"0.0": row, "0.98": dead}}})
    entropy = fig.axes[2].lines[0].get_ydata()
    assert entropy[0] == 0.5 and np.isnan(entropy[1])
