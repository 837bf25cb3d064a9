"""The b2b-gateway benchmark (``python -m bench``): ratios against baselines taken in the same run."""
