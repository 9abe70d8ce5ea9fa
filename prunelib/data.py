"""ImageNette: locate the copy, verify it, decode every JPEG once into a uint8 cache, augment in memory.

The paper (``book/protocol.md``) trains on ImageNette v2 with ``RandomResizedCrop(224)`` + horizontal flip +
ImageNet normalisation and evaluates on ``Resize([224, 224])`` (a squash). Decoding JPEGs every epoch is the
slow part of that pipeline on a small machine, so :func:`load_split` decodes each split once into one
``uint8 (N, 3, S, S)`` tensor kept in :func:`prunelib.paths.cache_dir`, and :func:`train_batch` /
:func:`eval_batch` apply the same transforms to in-memory batches. :func:`paper_transforms` gives the
original PIL pipeline for anyone working with PIL images.
"""
from __future__ import annotations

import hashlib
import math
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from .checkpoint import process_alive
from .paths import cache_dir, from_user, resolve
from .progress import progress_bar

#: WordNet ids in torchvision ``Imagenette`` order (= sorted); the label of a class is its index here.
WNIDS = ("n01440764", "n02102040", "n02979186", "n03000684", "n03028079",
         "n03394916", "n03417042", "n03425413", "n03445777", "n03888257")
#: First torchvision name of each class, same order as :data:`WNIDS`.
CLASSES = ("tench", "English springer", "cassette player", "chain saw", "church",
           "French horn", "garbage truck", "gas pump", "golf ball", "parachute")
MEAN = (0.485, 0.456, 0.406)  #: ImageNet channel means (RGB, on [0, 1] images)
STD = (0.229, 0.224, 0.225)  #: ImageNet channel standard deviations
SPLITS = ("train", "val")
_EXTENSIONS = (".jpeg", ".jpg")
_HINT = ("point prunelib at a local copy with `--data PATH` or `PRUNELIB_DATA=PATH` (a folder holding "
         "train/<wnid>/ and val/<wnid>/, e.g. ../shared/data/imagenette2-224), or fetch ImageNette (1.5 GB) into "
         "that folder with `--download` (or PRUNELIB_DOWNLOAD=1)")


class DataError(ValueError):
    """The dataset is missing, laid out wrongly, incomplete or corrupt; the message names what and where."""


# ----------------------------------------------------------------------------------------- locating
def _has_splits(folder: Path) -> bool:
    return all((folder / s).is_dir() for s in SPLITS)


def _find_root(folder: Path) -> Path | None:
    """``folder`` itself (ImageFolder layout) or ``folder/imagenette2*`` (torchvision layout), else None."""
    if _has_splits(folder):
        return folder
    nested = sorted(p for p in folder.glob("imagenette2*") if p.is_dir() and _has_splits(p))
    return nested[0] if nested else None


def locate(path: str | os.PathLike | None = None, *, download: bool = False) -> Path:
    """The ImageNette root holding ``train/`` and ``val/``, with its class folders checked.

    Looks in ``path`` (relative: to the project root, as results record it, see :func:`prunelib.paths.resolve`),
    else ``$PRUNELIB_DATA`` (relative: to the current folder, as a user typed it), else the project's ``data/``;
    accepts ``root/{train,val}/<wnid>/`` and
    torchvision's ``root/imagenette2*/{train,val}/<wnid>/``. With ``download=True`` and nothing found, runs
    ``torchvision.datasets.Imagenette(root, size="full", download=True)`` for both splits: torchvision shows the
    download's progress and checks the archive's MD5 before extracting it.
    """
    source = "the given path" if path is not None else "$PRUNELIB_DATA" if os.environ.get("PRUNELIB_DATA") else "the project's data/"
    env = os.environ.get("PRUNELIB_DATA")
    folder = resolve(path) if path is not None else from_user(env) if env else resolve("data")
    root = _find_root(folder) if folder.is_dir() else None
    if root is None and download:
        root = _download(folder)
    if root is None:
        if not folder.exists():
            raise DataError(f"ImageNette folder {folder} ({source}) does not exist; {_HINT}")
        if not folder.is_dir():
            raise DataError(f"ImageNette path {folder} ({source}) is not a folder; {_HINT}")
        raise DataError(f"wrong layout in {folder} ({source}): expected train/ and val/ folders (or "
                        f"imagenette2*/train, imagenette2*/val as torchvision writes them); {_HINT}")
    for split in SPLITS:
        _list_split(root, split)
    return root


def _download(folder: Path) -> Path | None:
    from torchvision.datasets import Imagenette
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for split in SPLITS:
            Imagenette(str(folder), split=split, size="full", download=True)
    except Exception as err:  # URLError, OSError, RuntimeError from a broken archive, ...
        raise DataError(f"downloading ImageNette into {folder} failed ({type(err).__name__}: {err}); "
                        "without internet, point prunelib at a local copy with `--data PATH` or `PRUNELIB_DATA=PATH` "
                        "(a folder holding train/<wnid>/ and val/<wnid>/)") from err
    return _find_root(folder)


def _visible(p: Path) -> bool:
    """Not a hidden entry: ``.ipynb_checkpoints``, ``.DS_Store`` and the like are never classes or images."""
    return not p.name.startswith(".")


def _list_split(root: Path, split: str) -> list[tuple[str, int]]:
    """``[(path relative to root, label)]`` sorted by (class index, file name); checks the class folders."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    folder = Path(root) / split
    if not folder.is_dir():
        raise DataError(f"wrong layout: split folder {folder} is missing")
    present = {p.name for p in folder.iterdir() if p.is_dir() and _visible(p)}
    missing, extra = sorted(set(WNIDS) - present), sorted(present - set(WNIDS))
    if missing or extra:
        raise DataError(f"class folders of {folder} differ from ImageNette's 10 wnids: "
                        f"missing {missing or 'none'}, unexpected {extra or 'none'}")
    samples = [(f"{split}/{wnid}/{f.name}", label) for label, wnid in enumerate(WNIDS)
               for f in sorted((folder / wnid).iterdir()) if f.suffix.lower() in _EXTENSIONS and _visible(f)]
    if not samples:
        raise DataError(f"split {split!r} in {folder} is empty: no .JPEG files in its class folders")
    empty = [w for i, w in enumerate(WNIDS) if not any(lab == i for _, lab in samples)]
    if empty:
        raise DataError(f"class folders without images in {folder}: {empty}")
    return samples


def class_counts(root: str | os.PathLike, split: str) -> list[int]:
    """The images of each class (in :data:`CLASSES` order) in ``split`` of ``root``, from the file listing."""
    counts = [0] * len(WNIDS)
    for _, label in _list_split(Path(root), split):
        counts[label] += 1
    return counts


def split_size(root: str | os.PathLike, split: str, per_class: int = 0) -> int:
    """How many images of ``split`` in ``root`` a run uses (with ``per_class`` > 0, at most that many of each class),
    from the file listing: nothing is decoded."""
    return sum(min(c, per_class) if per_class else c for c in class_counts(root, split))


# --------------------------------------------------------------------------------------- checksums
def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_checksums(sums: Path) -> dict[str, str]:
    """``{relative path: sha256}`` from a ``sha256sum`` file (``<64 hex digits>  [*]<relpath>`` per line).

    Raises DataError naming the file and line of a malformed or repeated entry.
    """
    entries: dict[str, str] = {}
    for number, line in enumerate(sums.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split(None, 1)
        digest = parts[0].lower()
        if len(parts) != 2 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise DataError(f"{sums}, line {number}: expected '<sha256 in 64 hex digits>  <path>', got {line!r}")
        rel = parts[1].strip().lstrip("*")
        if rel in entries:
            raise DataError(f"{sums}, line {number}: {rel} is listed twice")
        entries[rel] = digest
    return entries


def verify_checksums(root: str | os.PathLike) -> bool:
    """Check the images of ``root`` against ``root/SHA256SUMS`` (``<sha256>  <relpath>`` lines), strictly.

    Every listed file must exist and match, and every image of the train and val class folders must be listed
    (an unlisted image is not part of the data set that was checked). A stamp in ``cache_dir()/checksums`` keyed
    by the SHA256SUMS text and the listed files' sizes and mtimes makes later calls instant. Returns False when
    there is no SHA256SUMS, True when verified. Raises DataError naming the missing, unlisted or mismatching
    files, or the malformed line.
    """
    root = Path(root)
    sums = root / "SHA256SUMS"
    if not sums.is_file():
        return False
    entries = read_checksums(sums)
    key, missing = hashlib.sha256(sums.read_bytes()), []
    for rel in entries:
        try:
            st = (root / rel).stat()
        except OSError:
            missing.append(rel)
            continue
        key.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    if missing:
        raise DataError(f"{len(missing)} file(s) listed in {sums} are missing: {_names(missing)}")
    images = [rel for split in SPLITS for rel, _ in _list_split(root, split)]
    unlisted = [rel for rel in images if rel not in entries]
    if unlisted:
        raise DataError(f"{len(unlisted)} image(s) in {root} are not listed in {sums}: {_names(unlisted)}; "
                        "remove them, or add their checksums if they belong to the data set")
    stamp = cache_dir() / "checksums" / f"{key.hexdigest()[:32]}.ok"
    if stamp.exists():
        return True
    bad = [rel for rel, digest in progress_bar(entries.items(), desc="verifying SHA256SUMS", leave=False)
           if _sha256_file(root / rel) != digest]
    if bad:
        raise DataError(f"{len(bad)} file(s) in {root} do not match SHA256SUMS: {_names(bad)}")
    _write_atomic(stamp, lambda tmp: tmp.write_text("verified\n"))
    return True


def content_digests(root: Path, files: Sequence[str]) -> list[str]:
    """The sha256 of each of ``files``: from ``root/SHA256SUMS`` when it lists them (see :func:`verify_checksums`),
    else computed from the bytes (~1 s for all of ImageNette)."""
    sums = root / "SHA256SUMS"
    listed = read_checksums(sums) if sums.is_file() else {}
    return [listed.get(rel) or _sha256_file(root / rel) for rel in files]


def _files_digest(root: Path, files: Sequence[str]) -> str:
    key = hashlib.sha256()
    for rel, digest in zip(files, content_digests(root, files)):
        key.update(f"{rel}\0{digest}\n".encode())
    return key.hexdigest()


def split_digests(root: str | os.PathLike) -> dict[str, str]:
    """``{"train": sha256, "val": sha256}`` over each split's file names and contents, as :func:`load_split` computes
    them, without decoding an image (checked against SHA256SUMS first, like :func:`load_split`): what a cached
    result made from these data records, so that other images at the same path are never taken for them."""
    root = Path(root)
    verify_checksums(root)
    return {split: _files_digest(root, [rel for rel, _ in _list_split(root, split)]) for split in SPLITS}


def _names(files: Sequence[str], limit: int = 10) -> str:
    return ", ".join(files[:limit]) + (f" and {len(files) - limit} more" if len(files) > limit else "")


# ------------------------------------------------------------------------------------------- splits
@dataclass
class Split:
    """One decoded split: ``images`` uint8 (N, 3, S, S), ``labels`` int64 (N,), ``files`` relative to ``root``."""

    images: torch.Tensor
    labels: torch.Tensor
    files: list[str]
    name: str
    root: Path
    #: sha256 over the file names and contents (and the subset drawn, for a subset): what a run was trained on
    digest: str = ""

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: Sequence[int] | torch.Tensor) -> "Split":
        """The images at ``indices`` (in that order), as a new Split."""
        idx = torch.as_tensor(indices, dtype=torch.long).reshape(-1)
        digest = hashlib.sha256(f"{self.digest}:subset:{idx.tolist()}".encode()).hexdigest()
        return Split(self.images[idx], self.labels[idx], [self.files[i] for i in idx.tolist()], self.name, self.root,
                     digest)


def _decode(path: Path, size: int) -> torch.Tensor:
    """One JPEG -> uint8 (3, size, size): RGB, squash-resized (PIL bilinear, antialiased) unless already that size."""
    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
            if img.size != (size, size):
                img = img.resize((size, size), Image.BILINEAR)
            data = torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8)
    except (OSError, SyntaxError, ValueError) as err:
        raise DataError(f"cannot read image {path}: {err}") from err
    return data.view(size, size, 3).permute(2, 0, 1).contiguous()


def load_split(root: str | os.PathLike, split: str, *, size: int = 224, cache: bool = True,
               verify: bool = True) -> Split:
    """Decode every JPEG of ``split`` once into a :class:`Split` of uint8 (N, 3, size, size) images.

    Files are ordered by (class index, file name). With ``cache``, the tensor is stored in ``cache_dir()``
    keyed by ``size`` and the file names and contents (their sha256, from SHA256SUMS or computed), so a replaced
    image is never served from an old cache. A cache file that cannot be read is rebuilt with a warning naming
    it; temporary files of interrupted writes are removed. ``verify`` runs :func:`verify_checksums` first.
    """
    root = Path(root)
    if not isinstance(size, int) or size <= 0:
        raise ValueError(f"size must be a positive int, got {size!r}")
    samples = _list_split(root, split)
    if verify:
        verify_checksums(root)
    files = [rel for rel, _ in samples]
    labels = torch.tensor([lab for _, lab in samples], dtype=torch.int64)
    digest = _files_digest(root, files)
    target = cache_dir() / "imagenette" / f"{split}-{size}px-{hashlib.sha256(f'{digest}:{size}'.encode()).hexdigest()[:20]}.pt"
    if cache:
        remove_stale_temporaries(target.parent)
        images = _read_cache(target, len(files), size)
        if images is not None:
            return Split(images, labels, files, split, root, digest)
    images = torch.empty(len(files), 3, size, size, dtype=torch.uint8)
    with ThreadPoolExecutor(2) as pool:
        jobs = pool.map(lambda rel: _decode(root / rel, size), files)
        bar = progress_bar(jobs, total=len(files), desc=f"decoding {split} @ {size}px", leave=False)
        for i, img in enumerate(bar):
            images[i] = img
    if cache:
        _write_atomic(target, lambda tmp: torch.save({"images": images, "files": files}, tmp))
    return Split(images, labels, files, split, root, digest)


def _read_cache(target: Path, n: int, size: int) -> torch.Tensor | None:
    """The cached images, or None (with a warning naming the file) when it is absent, unreadable or wrong. The file
    is memory-mapped: a caller that takes a subset of the split (the smoke profile's 8 images a class) reads only
    those images' pages, not the whole split (1.4 GB for ImageNette's training split at 224 px)."""
    if not target.is_file():
        return None
    try:
        images = torch.load(target, weights_only=True, mmap=True)["images"]
        if images.dtype != torch.uint8 or tuple(images.shape) != (n, 3, size, size):
            raise ValueError(f"holds {images.dtype} {tuple(images.shape)}, expected uint8 {(n, 3, size, size)}")
        return images
    except Exception as err:  # truncated, foreign or corrupt file: rebuild it
        warnings.warn(f"decoded-image cache {target} is unreadable ({type(err).__name__}: {err}); rebuilding it",
                      stacklevel=3)
        return None


def _write_atomic(target: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` then rename to ``target``; a read-only folder is a DataError that names it and the fix."""
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, target)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise DataError(f"cannot write {target} ({err.strerror or err}); make {cache_dir()} writable or set "
                        "PRUNELIB_CACHE to a writable folder") from err


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Delete ``*.tmp<pid>`` files of ``folder`` whose process no longer runs (interrupted cache writes)."""
    removed = []
    for tmp in folder.glob("*.tmp*") if folder.is_dir() else ():
        pid = tmp.suffix[len(".tmp"):]
        if pid.isdigit() and not process_alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def per_class_subset(split: Split, n_per_class: int, seed: int = 0) -> Split:
    """``n_per_class`` images of every class drawn with ``torch.Generator().manual_seed(seed)``, class by class."""
    gen = torch.Generator().manual_seed(seed)
    chosen = []
    for label, name in enumerate(CLASSES):
        idx = torch.nonzero(split.labels == label).flatten()
        if len(idx) < n_per_class:
            raise DataError(f"class {label} ({name}, {WNIDS[label]}) has {len(idx)} {split.name} images, "
                            f"fewer than n_per_class={n_per_class}")
        chosen.append(idx[torch.randperm(len(idx), generator=gen)[:n_per_class]].sort().values)
    return split.subset(torch.cat(chosen))


# --------------------------------------------------------------------------------------- transforms
def _normalise_(x255: torch.Tensor) -> torch.Tensor:
    """In place: float images on [0, 255] -> ``(x / 255 - MEAN) / STD``, as one multiply-add."""
    std = torch.tensor(STD, device=x255.device).view(1, 3, 1, 1)
    mean = torch.tensor(MEAN, device=x255.device).view(1, 3, 1, 1)
    return x255.mul_(1 / (255 * std)).sub_(mean / std)


def denormalize(x: torch.Tensor) -> torch.Tensor:
    """Normalised (..., 3, H, W) -> [0, 1] images (inverse of the ImageNet normalisation, clamped)."""
    shape = (3, 1, 1)
    mean, std = torch.tensor(MEAN, device=x.device).view(shape), torch.tensor(STD, device=x.device).view(shape)
    return (x * std + mean).clamp(0, 1)


def _check_u8(images: torch.Tensor) -> None:
    if images.dtype != torch.uint8 or images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images_u8 must be a uint8 (B, 3, H, W) tensor, got {images.dtype} {tuple(images.shape)}")


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (B, 3, h, w) -> float (B, 3, size, size) on [0, 255]; bilinear with antialias (uint8 fast path on CPU)."""
    if x.shape[-2:] == (size, size):
        return x.float()
    if x.device.type == "cpu":  # torch's vectorised uint8 kernel wants channels_last; rounds like PIL does
        x = F.interpolate(x.contiguous(memory_format=torch.channels_last), size=(size, size),
                          mode="bilinear", antialias=True, align_corners=False)
        return x.float().contiguous()
    return F.interpolate(x.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)


def eval_batch(images_u8: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> normalised float (B, 3, size, size): the paper's ``Resize([s, s])`` + Normalize."""
    _check_u8(images_u8)
    return _normalise_(_resize(images_u8, size))


def crop_params(height: int, width: int, generator: torch.Generator, scale: tuple[float, float] = (0.08, 1.0),
                ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> tuple[int, int, int, int]:
    """``(i, j, h, w)`` of one RandomResizedCrop: torchvision's ``get_params`` (10 tries, then its central
    fallback), drawing from ``generator`` (the same draws as torchvision with a global seed)."""
    area, log_ratio = height * width, torch.log(torch.tensor(ratio))
    for _ in range(10):
        target_area = area * torch.empty(1).uniform_(scale[0], scale[1], generator=generator).item()
        aspect = math.exp(torch.empty(1).uniform_(log_ratio[0].item(), log_ratio[1].item(), generator=generator).item())
        w, h = int(round(math.sqrt(target_area * aspect))), int(round(math.sqrt(target_area / aspect)))
        if 0 < w <= width and 0 < h <= height:
            i = int(torch.randint(0, height - h + 1, (1,), generator=generator).item())
            j = int(torch.randint(0, width - w + 1, (1,), generator=generator).item())
            return i, j, h, w
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        h, w = height, int(round(height * max(ratio)))
    else:
        w, h = width, height
    return (height - h) // 2, (width - w) // 2, h, w


def train_batch(images_u8: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> normalised float (B, 3, size, size): per-sample RandomResizedCrop (scale
    (0.08, 1), ratio (3/4, 4/3)) resized bilinearly with antialias, horizontal flip p=0.5, Normalize.

    On the CPU crops are resized in uint8 (torch's vectorised channels-last kernel, rounding like PIL),
    elsewhere in float; flips and normalisation run once on the whole batch."""
    _check_u8(images_u8)
    height, width = images_u8.shape[-2:]
    cpu = images_u8.device.type == "cpu"
    out = torch.empty(len(images_u8), size, size, 3, device=images_u8.device, dtype=torch.uint8 if cpu else None)
    flips = torch.empty(len(images_u8), dtype=torch.bool)
    for b in range(len(images_u8)):
        i, j, h, w = crop_params(height, width, generator)
        flips[b] = torch.rand(1, generator=generator).item() < 0.5
        crop = images_u8[b:b + 1, :, i:i + h, j:j + w]
        if (h, w) != (size, size):
            crop = crop.contiguous(memory_format=torch.channels_last) if cpu else crop.float()
            crop = F.interpolate(crop, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out[b] = crop[0].permute(1, 2, 0)  # (size, size, 3): a plain copy for channels-last crops
    x = out.permute(0, 3, 1, 2).contiguous().float()
    x = torch.where(flips.to(x.device).view(-1, 1, 1, 1), x.flip(-1), x)
    return _normalise_(x)


def _epoch_generator(seed: int, epoch: int) -> torch.Generator:
    digest = hashlib.sha256(f"prunelib-batches:{seed}:{epoch}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little") >> 1)


def batches(split: Split, batch_size: int, *, train: bool, size: int, seed: int = 0, epoch: int = 0,
            device: torch.device | str | None = None) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``(x, y)`` batches: x normalised float (B, 3, size, size), y int64 (B,), on ``device`` (default: the
    split's). ``train``: shuffled and augmented from a generator seeded by (seed, epoch), last partial batch
    dropped; else in order, :func:`eval_batch`, all images. Same arguments -> identical batches."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    n = len(split)
    gen = _epoch_generator(seed, epoch)
    order = torch.randperm(n, generator=gen) if train else torch.arange(n)
    stop = n - n % batch_size if train else n
    for start in range(0, stop, batch_size):
        idx = order[start:start + batch_size]
        x, y = split.images[idx], split.labels[idx]
        if device is not None:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        yield (train_batch(x, size, gen) if train else eval_batch(x, size)), y


def paper_transforms(size: int) -> tuple[Callable, Callable]:
    """The paper's torchvision PIL pipelines ``(train_tf, eval_tf)``: RandomResizedCrop(size) + flip +
    Normalize, and Resize([size, size]) + Normalize; each maps a PIL image to a float (3, size, size)."""
    from torchvision import transforms as T
    tail = [T.ToTensor(), T.Normalize(MEAN, STD)]
    return (T.Compose([T.RandomResizedCrop(size), T.RandomHorizontalFlip(), *tail]),
            T.Compose([T.Resize([size, size]), *tail]))
