"""``edge-attn inspect``: what an artifact holds (no TensorFlow needed)."""

from __future__ import annotations

from pathlib import Path

import click

from edge_attn.runtime.artifact import read_artifact

from ._common import emit_json
from .report import print_validation


@click.command("inspect")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the whole description as JSON.")
def command(model: str, as_json: bool) -> None:
    """Show MODEL's config, signatures, quantization, size, checksum and validation."""
    art = read_artifact(model)
    cfg = art.config
    whole = cfg.to_dict()
    info = {"file": model, "file_bytes": Path(model).stat().st_size, "kind": art.kind,
            "quantization": art.quantization, "model_bytes": len(art.model_bytes),
            "sha256": cfg.model_sha256, "format_version": cfg.format_version,
            "package_version": cfg.package_version, "signatures": whole.pop("signatures"),
            "config": dict(whole, format_version=cfg.format_version),
            "validation": art.validation}
    part = cfg.seq2seq or cfg.classifier
    if as_json:
        emit_json(info)
        return
    click.echo(f"{model}: {art.kind}, {art.quantization}, {info['file_bytes']:,} bytes "
               f"(model {info['model_bytes']:,}), format v{info['format_version']}, "
               f"edge-attn {info['package_version']}")
    click.echo(f"sha256 {info['sha256']} (verified)")
    for key in ("max_source_len", "max_target_len", "state_names", "labels"):
        if getattr(part, key, None) is not None:
            click.echo(f"{key}: {list(v) if isinstance(v := getattr(part, key), tuple) else v}")
    for step in (cfg.model or {}).get("lowering", []):  # a user's Keras model (issue 12)
        click.echo(f"lowered: {step}")
    for name, sig in info["signatures"].items():
        click.echo(f"signature {name}:")
        for side in ("inputs", "outputs"):
            for t, spec in sig[side].items():
                click.echo(f"  {side[:-1]:6s} {t:16s} {spec['dtype']:8s} {spec['shape']}")
    print_validation(art.validation)
