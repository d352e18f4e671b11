"""The gunicorn server: the master that loads and reloads the registry (master), the gevent worker
(worker), and the worker's limits on connections, buffered bytes and memory."""
