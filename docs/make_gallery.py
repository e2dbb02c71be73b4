"""Regenerate the README gallery, ``docs/gallery/*.png``, from the configs in ``configs/``.

    python docs/make_gallery.py            # what `make gallery` runs
    python docs/make_gallery.py --list     # the figures it makes, without running anything

Each config of :data:`GALLERY` is loaded with :func:`optiviz.config.load_config` and run with
:func:`optiviz.experiment.run_experiment` into a temporary folder (PNG only), exactly as
``optiviz run CONFIG`` would; the selected figures are then copied to ``docs/gallery/``
under descriptive names. To keep the committed files small, each copy is scaled to
:data:`WIDTH` pixels wide and stored as a 256-colour palette PNG (a few tens of kB each;
the library's own figures are 150 dpi RGBA). Nothing in ``outputs/`` is touched, and
PNGs in ``docs/gallery/`` that are no longer in the list are removed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GALLERY_DIR = ROOT / "docs" / "gallery"

#: Width of the gallery images in pixels (the library draws 7 in x 150 dpi = 1050 px).
WIDTH = 800

#: (config in configs/, figure file stem the run writes, gallery file name, caption).
GALLERY: list[tuple[str, str, str, str]] = [
    (
        "quickstart",
        "contour",
        "quickstart-contour.png",
        "Eight optimizers on Rosenbrock's valley from (-1.2, 1) (`make demo`)",
    ),
    (
        "quickstart",
        "loss",
        "quickstart-loss.png",
        "Their loss f - f* per step: Newton in 6 steps, then momentum and Nesterov",
    ),
    (
        "quickstart",
        "effective_lr",
        "quickstart-effective-lr.png",
        "Per-coordinate effective learning rates of the same runs",
    ),
    (
        "lr-dependence",
        "contour",
        "lr-dependence-contour.png",
        "GD at 0.75, 1, 1.5, 2 and 2.1 x eta_opt: smooth, one step, oscillating, 2-cycle, "
        "divergent",
    ),
    (
        "lr-dependence",
        "loss",
        "lr-dependence-loss.png",
        "The same five runs: the loss of each learning rate",
    ),
    (
        "momentum-beta",
        "contour",
        "momentum-beta-contour.png",
        "Heavy-ball momentum with beta = 0, 0.1 and 0.99 on an ill-conditioned quadratic",
    ),
    (
        "lr-sweep",
        "lr_sweep",
        "lr-sweep-gd.png",
        "Final loss of 40 GD learning rates (one batched run) with eta_opt and 2/lambda_max marked",
    ),
    (
        "rmsprop-adadelta-effective-lr",
        "effective_lr",
        "rmsprop-adadelta-effective-lr.png",
        "Effective learning rates of AdaGrad, RMSprop and AdaDelta on a sparse/dense regression",
    ),
    (
        "adagrad-sparse-dense",
        "effective_lr",
        "adagrad-sparse-dense-effective-lr.png",
        "AdaGrad keeps a larger rate for the sparse feature; GD's is constant",
    ),
    (
        "sgd-minibatch-sigmoid",
        "loss",
        "sgd-minibatch-sigmoid-loss.png",
        "GD vs SGD vs mini-batch SGD (gamma_k = 1/(k+1)) on the notes' sigmoid neuron",
    ),
    (
        "sgd-minibatch-sigmoid",
        "contour",
        "sgd-minibatch-sigmoid-contour.png",
        "The same runs on the sigmoid-neuron loss surface (log levels)",
    ),
    (
        "rate-map-heavy-ball",
        "rate_map",
        "rate-map-heavy-ball.png",
        "Heavy ball over 200 x 200 (lr, momentum) cells in one batched run, beside the exact "
        "theory: stability boundary, critical damping, Polyak's pair, regimes",
    ),
    (
        "modes-gd",
        "modes",
        "modes-gd.png",
        "The error along each Hessian eigenvector: GD's (1 - lr lambda)^t and heavy ball's "
        "2x2 recurrence over the measured curves",
    ),
    (
        "rotation-invariance",
        "contour",
        "rotation-invariance-contour.png",
        "A quadratic turned by 45 degrees: GD and Newton as unrotated, AdaGrad, RMSprop and "
        "Adam not",
    ),
    (
        "worked-a-correlated-quadratic",
        "contour",
        "worked-a-contour.png",
        "Worked problem A: one step of GD, momentum, Nesterov and the lecture's RProp rule",
    ),
    (
        "several-starts",
        "contour",
        "several-starts-contour.png",
        "GD, heavy ball and Adam on Himmelblau's function from four starts",
    ),
    (
        "several-starts",
        "loss",
        "several-starts-loss.png",
        "Their loss: colour by optimizer, line style by start",
    ),
    (
        "lr-momentum-sweep",
        "lr_sweep",
        "lr-momentum-sweep.png",
        "Heavy ball over 30 learning rates x 3 momentum values: one line per beta",
    ),
    (
        "basins-himmelblau",
        "basins",
        "basins-himmelblau.png",
        "Basins of attraction of GD, heavy ball and Adam on Himmelblau (300 x 300 starts each)",
    ),
    (
        "edge-of-stability",
        "sharpness",
        "edge-of-stability-sharpness.png",
        "Sharpness along GD and Adam against 2/lr and Adam's 38/lr (edge of stability)",
    ),
    (
        "lr-range-test",
        "lr_range",
        "lr-range-test.png",
        "LR range test: the steepest-descent suggestion against the Hessian's 1/lambda_max",
    ),
]


#: Step figures (``optiviz.plotting.step``): (config in configs/, gallery file name,
#: caption). Each draws the first step of every optimizer entry of the config, from its
#: ``start`` (and ``start_prev``), as ``explain_step`` explains it, one panel per entry
#: titled with the entry's label.
STEP_GALLERY: list[tuple[str, str, str]] = [
    (
        "worked-a-correlated-quadratic",
        "worked-a-steps.png",
        "Worked problem A's four steps drawn: heavy ball's momentum and gradient parts, "
        "Nesterov's look-ahead point, lecture RProp's update",
    ),
]


def step_figure(config: str, path_without_ext: Path) -> Path:
    """The step figure of ``configs/<config>.yaml``'s entries (their first steps); returns
    the PNG written."""
    from optiviz.config import load_config
    from optiviz.explain import explain_step
    from optiviz.optimizers import make_optimizer
    from optiviz.plotting import save_figure, step

    cfg = load_config(ROOT / "configs" / f"{config}.yaml")
    surface = cfg.build_surface()
    explained = [
        explain_step(surface, make_optimizer(spec.name, **spec.hyperparameters), cfg.start,
                     cfg.start_prev)
        for spec in cfg.optimizers
    ]  # fmt: skip
    titles = [
        spec.label or e.optimizer.label() for spec, e in zip(cfg.optimizers, explained, strict=True)
    ]
    (path,) = save_figure(step(explained, titles=titles), path_without_ext, ["png"])
    return path


def shrink_png(src: Path, dst: Path, width: int = WIDTH) -> int:
    """Copy ``src`` to ``dst`` scaled to ``width`` pixels wide (aspect kept) as a 256-colour
    palette PNG; returns the size in bytes. Pillow comes with matplotlib."""
    from PIL import Image

    with Image.open(src) as im:
        im = im.convert("RGBA")
        if im.width > width:
            height = round(im.height * width / im.width)
            im = im.resize((width, height), Image.Resampling.LANCZOS)
        # flatten on white: the figures have a white background anyway
        flat = Image.new("RGB", im.size, (255, 255, 255))
        flat.paste(im, mask=im.getchannel("A"))
        pal = flat.quantize(colors=256, method=Image.Quantize.FASTOCTREE)
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.tmp")
        pal.save(tmp, format="PNG", optimize=True)
        tmp.replace(dst)
    return dst.stat().st_size


def build(out_dir: Path = GALLERY_DIR, width: int = WIDTH, verbose: bool = True) -> dict:
    """Run the configs and write the gallery; returns ``{gallery file name: bytes}``."""
    from optiviz.config import load_config
    from optiviz.experiment import run_experiment

    configs: dict[str, list[tuple[str, str]]] = {}
    for config, stem, name, _caption in GALLERY:
        configs.setdefault(config, []).append((stem, name))
    sizes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="optiviz-gallery-") as tmp:
        for config, wanted in configs.items():
            cfg = load_config(ROOT / "configs" / f"{config}.yaml")
            result = run_experiment(cfg, Path(tmp) / config, formats=["png"])
            if not result.expectations_passed:
                failed = "; ".join(e.message for e in result.failed_expectations())
                raise SystemExit(f"configs/{config}.yaml: a check in expect: failed: {failed}")
            for stem, name in wanted:
                src = Path(tmp) / config / f"{stem}.png"
                if not src.exists():
                    raise SystemExit(
                        f"configs/{config}.yaml did not write {stem}.png "
                        f"(wrote: {', '.join(sorted(result.files))})"
                    )
                sizes[name] = shrink_png(src, out_dir / name, width)
                if verbose:
                    print(
                        f"  {name:<42} {sizes[name] / 1000:6.1f} kB   "
                        f"(configs/{config}.yaml, {stem})"
                    )
        for config, name, _caption in STEP_GALLERY:
            src = step_figure(config, Path(tmp) / "steps" / Path(name).stem)
            sizes[name] = shrink_png(src, out_dir / name, width)
            if verbose:
                print(f"  {name:<42} {sizes[name] / 1000:6.1f} kB   (configs/{config}.yaml, step)")
    keep = set(sizes)
    for stale in out_dir.glob("*.png"):
        if stale.name not in keep:
            stale.unlink()
            if verbose:
                print(f"  removed {stale.name} (no longer in the gallery)")
    if verbose:
        total = sum(sizes.values())
        print(
            f"wrote {len(sizes)} images to {out_dir.relative_to(ROOT)}/ "
            f"({total / 1e6:.2f} MB in all, largest {max(sizes.values()) / 1000:.0f} kB)"
        )
    return sizes


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    parser.add_argument("--width", type=int, default=WIDTH, help="image width in pixels")
    args = parser.parse_args(argv)
    if args.list:
        for config, stem, name, caption in GALLERY:
            print(f"{name:<42} configs/{config}.yaml ({stem}): {caption}")
        for config, name, caption in STEP_GALLERY:
            print(f"{name:<42} configs/{config}.yaml (step figure): {caption}")
        return 0
    build(width=args.width)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
