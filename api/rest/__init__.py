"""The REST API under `/api`: one module per resource, each with its own blueprint.

`create_app` registers each under `/api`; the OpenAPI document
(api.rest.openapi) states the limits the resource modules keep.
"""
