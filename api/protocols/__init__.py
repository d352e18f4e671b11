"""The envelopes the predict pipeline speaks: our ``/models`` API (models) and the Open Inference
Protocol (v2, with Triton's binary tensors in v2_binary), with their JSON parsing and encoding."""
