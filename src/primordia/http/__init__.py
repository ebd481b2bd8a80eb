"""The HTTP layer both servers share (``primordia serve`` and the coordinator): refusals and
their envelope, the body-size cap, bearer tokens, listening sockets and the command-line
options for them, and the OpenAPI document. It imports neither ``web`` nor ``distributed``."""
