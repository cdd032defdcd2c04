"""The REST API's shared machinery: authentication, the organization-scoped base classes, the one
error shape, pagination, throttling, idempotency and the schema. Each app's endpoints live in
its own `apis.py` and API URL module; the root URLconf includes them under `api/v1/`."""
