import type { Context } from '../../context/context.js';

/**
 * Where the context of a traced exchange hangs on Node's message objects: the server span's context
 * on an incoming request and its response, the caller's context on a client request and the response
 * it gets. Every event of such a message is emitted in that context (body-hooks.ts), whatever
 * async context the socket feeding it belongs to: a server's sockets belong to the connection, so
 * without it `req.on('end')` and every later body event would run outside the request's trace.
 * Set for every traced exchange, recording or not, so unsampled traces propagate too.
 */
export const MESSAGE_CONTEXT = Symbol('linktrace.httpMessageContext');

export type WithMessageContext = { [MESSAGE_CONTEXT]?: Context };
