"""The saliency explorer (section 5): pictures, the frames folder, the widgets and the frames' computation, on tiny
arrays and models with known answers."""
from __future__ import annotations

import io
import json
from pathlib import Path

import ipywidgets as widgets
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from prunelib import metrics
from prunelib.chapters import explorer_live
from prunelib.figures import explorer
from prunelib.figures.explorer.widgets import AT_CHANCE
from prunelib.measure import explorer_frames
from prunelib.measure.frames import ExplorerFrames, ImageFrames, LevelFrames, MethodFrames, Prediction

# ---- encoding and drawing ------------------------------------------------------------------------------------


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_encode_keeps_the_pixel_size_and_png_is_lossless() -> None:
    rgb = np.random.default_rng(0).integers(0, 256, (6, 10, 3), dtype=np.uint8)
    assert np.array_equal(_decode(explorer.encode(rgb, "png")), rgb)
    for fmt in ("webp", "jpeg", "png"):
        data = explorer.encode(rgb, fmt)
        assert explorer.format_of(data) == fmt and _decode(data).shape == (6, 10, 3)
    grey = explorer.encode(np.array([[0.0, 1.0], [0.5, 2.0]]), "png")  # floats in [0, 1], clipped
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(grey))), [[0, 255], [128, 255]])


def test_encode_and_format_of_reject_what_they_cannot_read() -> None:
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, 3\)"):
        explorer.encode(np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match="dtype int64"):
        explorer.encode(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(ValueError, match="fmt"):
        explorer.encode(np.zeros((2, 2)), "gif")
    with pytest.raises(ValueError, match="frame.gif: not a JPEG, PNG or WebP"):
        explorer.format_of(b"GIF89a..", "frame.gif")


def test_overlay_mixes_the_grey_image_with_the_colour_of_the_map() -> None:
    from matplotlib import colormaps

    inferno = lambda v: np.round(np.array(colormaps["inferno"](v)[:3]) * 255)  # noqa: E731
    image = np.zeros((2, 2, 3), dtype=np.uint8)
    image[..., 0] = 200  # red: grey level 0.299 * 200 = 59.8
    saliency = np.array([[0.0, 1.0], [0.0, -4.0]])  # the sign does not matter, |m| is drawn
    assert (explorer.overlay(image, saliency, opacity=0.0) == 60).all()  # only the grey image
    out = explorer.overlay(image, saliency, opacity=1.0, outliers=0.0)  # only the colours; 4 is the top
    assert out.dtype == np.uint8 and out.shape == (2, 2, 3)
    assert np.array_equal(out[0, 0], inferno(0.0)) and np.array_equal(out[1, 1], inferno(1.0))
    assert np.array_equal(out[0, 1], inferno(0.25))
    half = explorer.overlay(image, saliency, opacity=0.5, outliers=0.0)[1, 1]
    assert np.allclose(half, (60 + inferno(1.0)) / 2, atol=1)
    with pytest.raises(ValueError, match="saliency: expected shape"):
        explorer.overlay(image, np.zeros((3, 2)))


def test_the_colour_scale_tops_out_where_the_largest_values_hold_two_percent_of_the_map() -> None:
    from prunelib.measure.drawing import saturation_value

    assert saturation_value(np.array([2.0] + [1.0] * 99)) == 1.0  # a lone pixel with 2/101 of the total saturates
    assert saturation_value(np.array([100.0] + [1.0] * 99)) == 100.0  # one holding half the total is the top
    assert saturation_value(np.array([2.0] + [1.0] * 99), outliers=0.0) == 2.0
    assert saturation_value(np.zeros((3, 3))) == 1.0


# ---- the frames folder ---------------------------------------------------------------------------------------


def _pic(value: int) -> bytes:
    return explorer.encode(np.full((4, 4, 3), value, dtype=np.uint8), "png")


def _frames(levels=(0.0, 0.5), methods=("VG", "IG"), percentages=(0.0, 30.0, 90.0), n_images=2) -> ExplorerFrames:
    intact = Prediction("church", 0.9)
    images = []
    for k in range(n_images):
        lvs = []
        for j, level in enumerate(levels):
            per_method = {}
            for i, m in enumerate(methods):
                removed = [_pic(0)] + [_pic(50 * k + 10 * j + 3 * i + q) for q in range(1, len(percentages))]
                predictions = [intact] + [Prediction("church" if q < 2 else "parachute", 0.5)
                                          for q in range(1, len(percentages))]
                per_method[m] = MethodFrames(gini=0.25 * (i + 1), overlay=_pic(100 + 10 * k + 3 * j + i),
                                             removed=removed, predictions=predictions)
            lvs.append(LevelFrames(level, intact, per_method))
        images.append(ImageFrames(f"image {k}", lvs))
    return ExplorerFrames(methods=list(methods), percentages=list(percentages), images=images, caption="run X")


def test_frames_round_trip_through_their_folder(tmp_path: Path) -> None:
    frames = _frames(levels=(0.0, 0.975))
    index = explorer.save_frames(frames, tmp_path)
    assert index == tmp_path / "index.json"
    assert (tmp_path / "image_1/level_97.5_IG_removed_90.png").is_file()
    assert (tmp_path / "image_0/level_00_VG_map.png").is_file()
    assert explorer.load_frames(tmp_path) == frames


@pytest.mark.parametrize("damage, error, message", [
    (lambda ix, d: d.write_text("{not json"), ValueError, "not valid JSON"),
    (lambda ix, d: ix.update(version=1), ValueError, "version 1"),
    (lambda ix, d: ix["images"][1]["levels"][0].pop("prediction"), ValueError,
     r"images\[1\].levels\[0\] has no 'prediction'"),
    (lambda ix, d: ix["images"][0]["levels"][1]["methods"]["IG"].update(gini="high"), ValueError,
     r"images\[0\].levels\[1\].methods.IG\['gini'\] is 'high'"),
    (lambda ix, d: ix["images"][0]["levels"][0]["methods"]["VG"]["removed"].pop(), ValueError,
     "2 pictures and 3 predictions for 3 removal percentages"),
    (lambda ix, d: (d.parent / ix["images"][0]["levels"][0]["methods"]["VG"]["overlay"]).unlink(),
     FileNotFoundError, "names image_0/level_00_VG_map.png, which is missing"),
])
def test_a_damaged_index_is_an_error_naming_the_file(tmp_path: Path, damage, error, message) -> None:
    path = explorer.save_frames(_frames(), tmp_path)
    index = json.loads(path.read_text())
    damage(index, path)
    if path.read_text().startswith("{\n"):  # the damage was to the content, not the file
        path.write_text(json.dumps(index))
    with pytest.raises(error, match=message) as err:
        explorer.load_frames(tmp_path)
    assert str(path) in str(err.value)


def test_missing_index_and_inconsistent_frames_are_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="index.json: no explorer index"):
        explorer.load_frames(tmp_path)
    frames = _frames()
    frames.images[1].levels.pop()
    with pytest.raises(ValueError, match="image 'image 1': levels"):
        ExplorerFrames(frames.methods, frames.percentages, frames.images)


# ---- the panels and the widgets ------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def test_panels_show_prediction_gini_pictures_and_whether_the_prediction_survives() -> None:
    lv = _frames().images[1].levels[0]
    maps = explorer.map_panel(lv, px=300)
    assert "Prediction on the intact image: <b>church 90 %</b>" in maps
    assert "<b>VG</b> · Vanilla Gradients · Gini 0.25" in maps
    assert "<b>IG</b> · Integrated Gradients · Gini 0.50" in maps
    assert all(f"data:image/png;base64,{_b64(m.overlay)}" in maps for m in lv.methods.values())
    assert "width:300px" in maps
    at_30, at_90 = explorer.removal_panel(lv, 1), explorer.removal_panel(lv, 2)
    assert "VG: <span style='color:#1a7f37'>✓ church 50 %</span>" in at_30
    assert "IG: <span style='color:#c62828'>✗ parachute 50 %</span>" in at_90
    assert _b64(lv.methods["IG"].removed[2]) in at_90 and _b64(lv.methods["IG"].removed[1]) not in at_90
    assert explorer.level_label(0.0) == "0 % (dense)" and explorer.level_label(0.975) == "97.5 %"


def test_static_explorer_links_each_control_to_every_stack_it_drives(monkeypatch: pytest.MonkeyPatch) -> None:
    links: list[tuple] = []
    real = widgets.jslink
    monkeypatch.setattr(widgets, "jslink", lambda a, b: links.append((a, b)) or real(a, b))
    frames = _frames()  # 2 images x 2 levels x 2 methods x 3 percentages
    box = explorer.static_explorer(frames)
    chooser, level, maps, fraction, removals, notes = box.children
    assert chooser._options_labels == ("image 0", "image 1") and level._options_labels == ("0 % (dense)", "50 %")
    assert fraction._options_labels == ("0 %", "30 %", "90 %") and "run X" in notes.value
    by_source: dict[int, list] = {}
    for (source, trait), (target, target_trait) in links:
        assert trait == "index" and target_trait == "selected_index" and isinstance(target, widgets.Stack)
        by_source.setdefault(id(source), []).append(target)
    assert by_source[id(chooser)] == [maps, removals]
    assert by_source[id(level)] == [s for k in range(2) for s in (maps.children[k], removals.children[k])]
    assert by_source[id(fraction)] == [s for k in range(2) for s in removals.children[k].children]
    panel = removals.children[1].children[0].children[2]  # image 1, level 0, 90 % removed
    assert panel.value == explorer.removal_panel(frames.images[1].levels[0], 2)
    assert maps.children[1].children[1].value == explorer.map_panel(frames.images[1].levels[1])
    level.index = 1  # the links run in the browser: the Python side needs no kernel round trip
    assert maps.children[0].selected_index == 0


def test_static_explorer_says_which_networks_are_at_chance() -> None:
    frames = _frames()
    chooser, level, maps, *_ = explorer.static_explorer(frames, at_chance=[0.5]).children
    assert level._options_labels == ("0 % (dense)", "50 % (at chance)")
    assert maps.children[1].children[1].value.startswith(AT_CHANCE) and AT_CHANCE not in maps.children[1].children[0].value


def test_live_explorer_computes_on_image_and_level_changes_only() -> None:
    calls = []
    frames = _frames()

    def compute(k: int, j: int) -> LevelFrames:
        calls.append((k, j))
        return frames.images[k].levels[j]

    box = explorer.live_explorer(compute, ["a", "b"], frames.levels, frames.percentages)
    chooser, level, maps, fraction, removal = box.children[:5]
    assert calls == [(0, 0)] and removal.value == explorer.removal_panel(frames.images[0].levels[0], 0)
    fraction.index = 2
    assert calls == [(0, 0)] and removal.value == explorer.removal_panel(frames.images[0].levels[0], 2)
    level.index, chooser.value = 1, 1
    assert calls == [(0, 0), (0, 1), (1, 1)]
    assert maps.value == explorer.map_panel(frames.images[1].levels[1])
    assert removal.value == explorer.removal_panel(frames.images[1].levels[1], 2)  # the chosen fraction is kept
    with pytest.raises(ValueError, match="at least one image"):
        explorer.live_explorer(compute, [], frames.levels, frames.percentages)


# ---- computing the frames ------------------------------------------------------------------------------------


class Linear(nn.Module):
    """A tiny classifier of 3 x size x size images into the 10 ImageNette classes."""

    def __init__(self, size: int = 6, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.fc = nn.Linear(3 * size * size, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1))


def test_removal_series_removes_the_most_relevant_pixels_as_road_does() -> None:
    model = Linear().eval()
    x = torch.randn(3, 6, 6)
    saliency = torch.arange(36, dtype=torch.float32).flip(0).view(6, 6)  # pixel 0 most relevant, then 1, ...
    images, probabilities = explorer_frames.removal_series(model, x, saliency, [0, 25, 50], seed=3, index=2)
    assert images.shape == (3, 3, 6, 6) and torch.equal(images[0], x)  # 0 %: the input itself
    changed = (images != x).any(1).flatten(1)  # (percentages, pixels): any channel changed
    for j, k in ((1, 9), (2, 18)):  # floor(36 p / 100) pixels removed, the first k in the map's order
        assert changed[j].tolist() == [True] * k + [False] * (36 - k)
    assert torch.equal(images[1:], metrics.road_images(x, saliency, [25, 50], seed=3, index=2))
    assert torch.allclose(probabilities, model(images).softmax(1))


def test_removal_of_a_constant_image_imputes_the_constant_plus_the_noise() -> None:
    x = torch.full((3, 6, 6), 0.7)
    saliency = torch.rand(6, 6, generator=torch.Generator().manual_seed(0))
    images, _ = explorer_frames.removal_series(Linear().eval(), x, saliency, [90], noise=0.0)
    assert torch.allclose(images, x, atol=1e-5)
    images, _ = explorer_frames.removal_series(Linear().eval(), x, saliency, [90], noise=0.01)
    residual = (images - x).flatten()
    assert residual.abs().max() < 0.06 and 0.007 < residual[residual != 0].std() < 0.013


def test_removal_percentages_must_leave_pixels_to_impute_from() -> None:
    assert explorer_frames.parse_percentages("0, 10,90") == [0.0, 10.0, 90.0]
    for bad in ("0,100", "10,5", "", "ten"):
        with pytest.raises(ValueError, match="percentages"):
            explorer_frames.parse_percentages(bad)


def test_level_frames_hold_prediction_gini_and_one_picture_per_percentage() -> None:
    model, x = Linear().eval(), torch.randn(3, 6, 6)
    maps = {"VG": torch.rand(6, 6), "IG": torch.zeros(6, 6).index_fill_(0, torch.tensor([2]), 1.0)}
    lf = explorer_frames.level_frames(model, x, maps, 0.5, [0, 50, 90])
    with torch.no_grad():
        p = model(x[None]).softmax(1)[0]
    assert lf.level == 0.5 and lf.prediction.probability == pytest.approx(float(p.max()))
    assert list(lf.methods) == ["VG", "IG"]
    assert lf.methods["IG"].gini == pytest.approx(float(metrics.gini(maps["IG"][None])[0]))
    assert all(len(m.removed) == len(m.predictions) == 3 for m in lf.methods.values())
    intact = lf.methods["VG"].predictions[0]  # 0 %: the intact image, classified in a batch with the others
    assert intact.label == lf.prediction.label and intact.probability == pytest.approx(lf.prediction.probability)
    assert _decode(lf.methods["VG"].removed[2]).shape == (6, 6, 3)


def test_live_mode_without_checkpoints_names_the_command_that_makes_them(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRUNELIB_CHECKPOINTS", str(tmp_path / "checkpoints"))
    # a seed no machine trains, so that the test does not depend on the checkpoints this machine holds
    result = {"profile": "noise", "seed": 9999, "regime": "global", "settings": {"image_size": 128, "val_per_class": 0},
              "networks": [{"network": "dense", "target": 0.0,
                            "checkpoint": "checkpoints/noise/seed9999/dense/best.pt"}]}
    note = explorer_live.open_live_explorer(result, data="../data/imagenette2-224", methods="VG,IG")
    assert isinstance(note, widgets.HTML)
    assert "checkpoints/noise/seed9999/dense/best.pt is not on this machine" in note.value
    assert "python -m prunelib sweep --profile noise --seeds 9999 --regimes global" in note.value


def test_live_source_computes_and_keeps_the_frames_of_validation_images(synthetic_root: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    models = {0.0: Linear(32, seed=0).eval(), 0.5: Linear(32, seed=1).eval()}
    compute, names, levels = explorer_live.live_source(models, data=str(synthetic_root), image_size=32,
                                                       methods="IG,VG", percentages="0,50", per_class=1)
    assert len(names) == 10 and names[4].startswith("church · ") and levels == [0.0, 0.5]
    lf = compute(3, 1)
    assert lf.level == 0.5 and list(lf.methods) == ["IG", "VG"] and len(lf.methods["VG"].removed) == 2
    assert compute(3, 1) is lf  # kept: going back to a level is instant
    from prunelib.chapters import study
    monkeypatch.setattr(study, "networks", lambda result, device="auto": models)
    result = {"seed": 0, "settings": {"image_size": 32, "val_per_class": 0}}
    assert isinstance(explorer_live.open_live_explorer(result, data=str(synthetic_root), methods="VG",
                                                       percentages="0,50"), widgets.VBox)
