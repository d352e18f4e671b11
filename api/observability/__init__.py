"""What the server tells its operators: Prometheus metrics, logging, request ids and request logs."""
