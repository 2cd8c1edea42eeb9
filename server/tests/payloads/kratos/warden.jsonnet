// Body of Kratos's web_hook for warden (/v1/hooks/kratos/login and /v1/hooks/kratos/registration).
// Kratos passes `ctx`; `session` exists after login only, `oauth2_login_request` only when
// Kratos is the login app of an OAuth2 flow, `transient_payload` only when the form sent one.
local has(o, f) = std.isObject(o) && std.objectHas(o, f);
function(ctx) {
  identity: ctx.identity,
  session: if has(ctx, 'session') then {
    [k]: ctx.session[k]
    for k in std.objectFields(ctx.session)
    if k != 'identity'
  } else null,
  flow: {
    id: ctx.flow.id,
    type: ctx.flow.type,
    request_url: ctx.flow.request_url,
    active: if has(ctx.flow, 'active') then ctx.flow.active else null,
    requested_aal: if has(ctx.flow, 'requested_aal') then ctx.flow.requested_aal else null,
    oauth2_login_request: if has(ctx.flow, 'oauth2_login_request') then ctx.flow.oauth2_login_request else null,
    transient_payload: if has(ctx.flow, 'transient_payload') then ctx.flow.transient_payload else null,
  },
  request: {
    url: ctx.request_url,
    method: ctx.request_method,
    headers: ctx.request_headers,
  },
}
