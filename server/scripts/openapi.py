#!/usr/bin/env python3
"""Writes server/openapi.json, the OpenAPI description of `warden serve`'s own routes.

Run from the repository root after changing a route: `python3 server/scripts/openapi.py`.
A test (server/tests/serve.rs) checks every route is described; hook payloads are the hosts'
own and documented in docs/hooks.md.
"""
import json, pathlib

def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}

def json_body(schema, description):
    return {"description": description, "content": {"application/json": {"schema": schema}}}

ERRORS = {
    "400": json_body(ref("Error"), "Malformed or invalid input: `error.kind`, and `line`/`column` or `path` say what and where"),
    "401": json_body(ref("Error"), "A bearer key is required and missing or wrong"),
    "404": json_body(ref("Error"), "No pipeline by that name (`error.pipelines` lists those served)"),
    "408": json_body(ref("Error"), "The body did not arrive within 10 s"),
    "413": json_body(ref("Error"), "The body is larger than the limit (`error.limit`, default 4 MiB)"),
    "500": json_body(ref("Error"), "An internal error; the server keeps serving"),
    "503": {"description": "Too many logins in flight; retry after `Retry-After` seconds",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {"application/json": {"schema": ref("Error")}}},
}

def login_op(summary, named):
    op = {
        "summary": summary,
        "security": [{"bearer": []}, {}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref("LoginRequest")}}},
        "responses": {"200": json_body(ref("Decision"), "Decided: allow or deny, in the body"), **ERRORS},
    }
    if named:
        op["parameters"] = [{"name": "name", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}}]
    return {"post": op}

def hook_op(named):
    params = [{"name": "route", "in": "path", "required": True, "schema": {"type": "string"},
               "description": "The adapter: `hydra/token`, `kratos/login`, `kratos/registration`, `zitadel` (docs/hooks.md)"}]
    if named:
        params.insert(0, {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}})
    return {"post": {
        "summary": "A login in an identity stack's own hook format; the reply is the stack's own (docs/hooks.md)",
        "parameters": params,
        "security": [{"bearer": []}, {}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"200": {"description": "Allowed, in the host's reply format"},
                      "204": {"description": "Allowed, nothing to change (Ory Hydra)"},
                      "403": {"description": "Denied, in the host's reply format"}, **ERRORS},
    }}

doc = {
    "openapi": "3.1.0",
    "info": {
        "title": "warden serve",
        "version": "1",
        "description": "Login rules over HTTP. Outcomes are the contract of docs/outcome.md; the server adds `decision_id` and `pipeline`. Operations: docs/serve.md.",
    },
    "paths": {
        "/v1/login": login_op("Decide a login with the pipeline named `default`", False),
        "/v1/pipelines/{name}/login": login_op("Decide a login with a named pipeline", True),
        "/v1/hooks/{route}": hook_op(False),
        "/v1/pipelines/{name}/hooks/{route}": hook_op(True),
        "/v1/data/{path}": {"post": {
            "summary": "OPA-compatible Data API (for Keycloak's OPA extensions): `/v1/data/{prefix}/{pipeline}` gives the decision, `.../allow` the boolean; `{\"input\": ...}` -> `{\"result\": ..., \"decision_id\"}`; an undefined document is 200 `{}` as in OPA (docs/hooks.md)",
            "parameters": [{"name": "path", "in": "path", "required": True, "schema": {"type": "string"}}],
            "security": [{"bearer": []}, {}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "properties": {"input": {"type": "object"}}}}}},
            "responses": {"200": json_body({"type": "object", "properties": {"result": {}, "decision_id": {"type": "string"}}}, "The decision as OPA returns a document"), **ERRORS},
        }},
        "/v1/pipelines": {"get": {
            "summary": "The pipelines served, with their content hashes",
            "security": [{"bearer": []}, {}],
            "responses": {"200": json_body({"type": "object", "properties": {"pipelines": {"type": "array", "items": ref("PipelineInfo")}}}, "The pipelines"), "401": ERRORS["401"]},
        }},
        "/v1/admin/reload": {"post": {
            "summary": "Load every pipeline again; each one that loads and changed replaces its running version at once, each one that fails keeps it",
            "security": [{"bearer": []}],
            "responses": {
                "200": json_body(ref("ReloadReport"), "Every pipeline loaded (reloaded or unchanged)"),
                "401": ERRORS["401"],
                "403": json_body(ref("Error"), "No admin keys are configured while login keys are"),
                "422": json_body(ref("ReloadReport"), "At least one pipeline failed to load and keeps its running version (`failed` says why)"),
            },
        }},
        "/health": {"get": {"summary": "Alive", "responses": {"200": json_body({"type": "object", "properties": {"status": {"const": "ok"}}}, "Alive")}}},
        "/ready": {"get": {"summary": "Every pipeline loaded and verified, and not draining",
                           "responses": {"200": json_body({"type": "object", "properties": {"status": {"const": "ready"}, "pipelines": {"type": "array"}}}, "Ready"),
                                         "503": json_body(ref("Error"), "Draining after SIGTERM, or not loaded")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (OpenMetrics text)",
                             "responses": {"200": {"description": "Metrics", "content": {"application/openmetrics-text": {"schema": {"type": "string"}}}}}}},
        "/openapi.json": {"get": {"summary": "This description", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "Required on login, hook and pipeline routes when login keys are configured (they must be beyond loopback, unless --no-auth); admin routes take admin keys; ZITADEL requests are authenticated by their signature instead"}},
        "schemas": {
            "LoginRequest": {
                "type": "object", "required": ["user", "context"], "additionalProperties": False,
                "properties": {
                    "user": {"type": "object", "description": "Auth0's user profile (docs/schema.md)"},
                    "context": {"type": "object", "description": "Auth0's context (docs/schema.md)"},
                    "now": {"oneOf": [{"type": "string", "format": "date-time"}, {"type": "integer", "description": "epoch milliseconds"}],
                            "description": "The time rules see as now(); the server's clock when absent"},
                },
            },
            "Decision": {
                "type": "object", "required": ["decision_id", "pipeline", "decision", "error", "effects", "logs"],
                "description": "docs/outcome.md, after `decision_id` and `pipeline`",
                "properties": {
                    "decision_id": {"type": "string", "format": "uuid"},
                    "pipeline": ref("PipelineRef"),
                    "decision": {"enum": ["allow", "deny"]},
                    "error": {"oneOf": [{"type": "null"}, ref("OutcomeError")]},
                    "user": {"type": "object"},
                    "id_token": {"type": "object"},
                    "access_token": {"type": "object"},
                    "scope": {"oneOf": [{"type": "null"}, {"type": "array", "items": {"type": "string"}}]},
                    "multifactor": {"oneOf": [{"type": "null"}, {"type": "object"}]},
                    "redirect": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {"url": {"type": "string"}}}]},
                    "saml_configuration": {"type": "object"},
                    "primary_user": {"type": "string"},
                    "effects": {"type": "array", "items": {"type": "object", "properties": {"kind": {"enum": ["update_app_metadata", "update_user_metadata"]}, "user_id": {"type": "string"}, "patch": {"type": "object"}}}},
                    "logs": {"type": "array", "items": {"type": "object", "properties": {"rule": {"type": "string"}, "level": {"type": "string"}, "message": {"type": "string"}}}},
                },
            },
            "OutcomeError": {
                "type": "object", "required": ["code", "description", "rule", "cause"],
                "properties": {
                    "code": {"enum": ["unauthorized", "access_denied", "interaction_required"]},
                    "description": {"type": "string"},
                    "rule": {"type": "string"},
                    "cause": {"enum": ["denied", "rule_error", "timeout", "resource_limit"]},
                    "location": {"type": "string"},
                },
            },
            "PipelineRef": {"type": "object", "properties": {"name": {"type": "string"}, "hash": {"type": "string", "description": "SHA-256 of the program, its sources and literal configuration"}}},
            "PipelineInfo": {"type": "object", "properties": {"name": {"type": "string"}, "hash": {"type": "string"}, "loaded_at": {"type": "string", "format": "date-time"}, "rules": {"type": "integer"}}},
            "ReloadReport": {"type": "object", "properties": {
                "ok": {"type": "boolean"},
                "reloaded": {"type": "array", "items": {"type": "object", "properties": {"pipeline": {"type": "string"}, "hash": {"type": "string"}}}},
                "unchanged": {"type": "array", "items": {"type": "string"}},
                "failed": {"type": "array", "items": {"type": "object", "properties": {"pipeline": {"type": "string"}, "source": {"type": "string"}, "error": {"type": "string"}}}},
            }},
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
                "code": {"type": "string", "description": "invalid_input, too_large, body_timeout, unauthorized, forbidden, unknown_pipeline, not_found, overloaded, draining, invalid_payload, bad_signature, internal"},
                "message": {"type": "string"},
                "kind": {"type": "string", "description": "for invalid_input: malformed, not_an_object, wrong_type, too_deep, too_many_values"},
                "line": {"type": "integer"}, "column": {"type": "integer"}, "path": {"type": "string"}, "limit": {"type": "integer"},
            }}}},
        },
    },
}

out = pathlib.Path(__file__).resolve().parent.parent / "openapi.json"
out.write_text(json.dumps(doc, indent=2) + "\n")
print(f"wrote {out}")
