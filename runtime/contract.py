"""The artifact's declared signatures checked against the interpreter's (once, at load).

Kept apart from :mod:`.session` (the interpreter wrapper): this is the contract between the
typed config (:mod:`.config`) and the model bytes, not a way of calling the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .config import SignatureDecl, TensorDecl
from .errors import ArtifactError
from .session import Signature, TensorSpec


def check_signatures(declared: Mapping[str, SignatureDecl], actual: Mapping[str, Signature],
                     origin: str = "artifact") -> None:
    """Compare the config's signatures with the interpreter's; ArtifactError on mismatch.

    Compares signature names, input/output names, dtypes and shapes (a ``-1`` in either is a
    dynamic dim and matches anything). Every mismatch is listed in the message.

    Args:
        declared: ``ArtifactConfig.signatures``.
        actual: ``Session.signatures``.
        origin: Artifact name for the message.
    """
    problems: list[str] = []
    for name, decl in declared.items():
        sig = actual.get(name)
        if sig is None:
            problems.append(f"signature {name!r} is not in the model "
                            f"(model has {sorted(actual)})")
            continue
        problems += _compare(f"{name}.inputs", decl.inputs, sig.inputs)
        problems += _compare(f"{name}.outputs", decl.outputs, sig.outputs)
    if problems:
        raise ArtifactError(f"{origin}: config does not match the model: " + "; ".join(problems))


def require_signature(signatures: Mapping[str, Signature], name: str, inputs: Sequence[str],
                      outputs: Sequence[str], origin: str, hint: str = "") -> Signature:
    """The signature ``name`` with exactly ``inputs`` and at least ``outputs``.

    Raises:
        ArtifactError: Missing signature, other inputs, or missing outputs (``hint`` is
            appended to the inputs message).
    """
    sig = signatures.get(name)
    if sig is None:
        raise ArtifactError(f"{origin}: the model has no {name!r} signature")
    if set(sig.inputs) != set(inputs):
        raise ArtifactError(f"{origin}: signature {name!r} has inputs {sorted(sig.inputs)}, "
                            f"expected {sorted(inputs)}{hint}")
    missing = set(outputs) - set(sig.outputs)
    if missing:
        raise ArtifactError(f"{origin}: signature {name!r} lacks outputs {sorted(missing)}")
    return sig


def declare(signatures: Mapping[str, Signature]) -> dict[str, SignatureDecl]:
    """The declaration of an interpreter's signatures (what export writes in the config)."""
    def tensors(specs: Mapping[str, TensorSpec]) -> dict[str, TensorDecl]:
        return {k: TensorDecl(tuple(int(d) for d in s.shape), s.dtype.name)
                for k, s in sorted(specs.items())}

    return {name: SignatureDecl(tensors(sig.inputs), tensors(sig.outputs))
            for name, sig in sorted(signatures.items())}


def _compare(where: str, declared: Mapping[str, TensorDecl],
             actual: Mapping[str, TensorSpec]) -> list[str]:
    out = []
    if set(declared) != set(actual):
        out.append(f"{where}: config names {sorted(declared)} != model names {sorted(actual)}")
    for name in sorted(set(declared) & set(actual)):
        d, a = declared[name], actual[name]
        if d.dtype != a.dtype.name:
            out.append(f"{where}.{name}: dtype {d.dtype} != model {a.dtype.name}")
        if len(d.shape) != len(a.shape) or any(
                x != y and x != -1 and y != -1 for x, y in zip(d.shape, a.shape)):
            out.append(f"{where}.{name}: shape {list(d.shape)} != model {list(a.shape)}")
    return out
