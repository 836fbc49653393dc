"""PyInstaller runtime hook: point the app at the resources and the model file inside the frozen bundle."""

import os
import sys

# Runs before mor-launch.py. setdefault keeps a user's explicit MOR_RESOURCES_DIR / MOR_LOCAL_MODEL_GGUF winning;
# children we start (the local model server is this same executable) inherit the values, which is what they need.
_bundle = getattr(sys, "_MEIPASS", None)
if _bundle:
    os.environ.setdefault("MOR_RESOURCES_DIR", os.path.join(_bundle, "resources"))
    _gguf = os.path.join(_bundle, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
    if os.path.isfile(_gguf):
        os.environ.setdefault("MOR_LOCAL_MODEL_GGUF", _gguf)
