"""The gunicorn server: the master that loads and reloads the registry (master), the gevent worker
(worker), the worker's limits on connections, buffered bytes and memory, its one-write answers, and
gunicorn's own errors answered in the path's protocol (http_errors)."""
