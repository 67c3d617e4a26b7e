// A trace link (`#/trace/<id>`) starts the trace's API call here, while the app's script is still
// loading; the client takes the answer over (takeEarlyCall in src/api/client.ts). The URL and
// headers must be the ones getJson would build (src/api/api-url.ts, token.ts's storage key), or
// the client ignores this call and makes its own. A file, not an inline script: the server's
// Content-Security-Policy allows no inline script.
(function () {
  var text = location.hash.replace(/^#\/?/, '');
  var q = text.indexOf('?');
  var parts = (q < 0 ? text : text.slice(0, q)).split('/');
  if (parts[0] !== 'trace' || parts.length < 2) return;
  var id;
  try {
    id = decodeURIComponent(parts.slice(1).join('/'));
  } catch {
    return;
  }
  var path = location.pathname;
  var dir = path.endsWith('/') ? path : path.slice(0, path.lastIndexOf('/') + 1);
  // Always this origin: a path like //evil.example/ must not become another host.
  var url = location.origin + '/' + dir.replace(/^[/\\]+/, '') + 'api/v1/traces/' + encodeURIComponent(id);
  var headers = { accept: 'application/json' };
  var token = null;
  try {
    token = localStorage.getItem('linktrace.token');
  } catch {
    // Storage disabled: the call goes without a token, as the client's would.
  }
  if (token) headers.authorization = 'Bearer ' + token;
  var response = fetch(url, { headers: headers });
  // Unused (the app routed elsewhere) or failed: the client's own call reports errors.
  response.catch(function () {});
  window.linktraceEarlyCall = { url: url, authorization: headers.authorization || '', response: response };
})();
