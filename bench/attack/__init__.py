"""make attack: slow and hostile clients held open while a probe predicts (``python -m bench.attack``)."""
