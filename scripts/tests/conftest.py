"""In CI (CI set) the training code's tests must run, not skip: the packages they import are required
there, so a broken install fails the run instead of silently skipping them."""
import importlib
import os


def pytest_configure(config):
    if os.environ.get("CI"):
        for name in ("torch", "transformers", "safetensors", "tokenizers"):
            importlib.import_module(name)
