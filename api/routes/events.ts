import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { z } from 'zod';
import { ChangeFeed, type ChangeBatch } from '../../core/events/change-feed';
import type { ApiDeps } from '../deps';
import { route, type AnyRouteSpec } from '../route';

/**
 * The inbox's live feed as Server-Sent Events, so the dashboard hears of new messages, delivery ticks and
 * conversation changes without polling. Scoped to the caller's tenant. The browser's EventSource reconnects by
 * itself; on every (re)connection the dashboard reloads what it shows, so nothing missed while away is lost.
 */

/** Beyond this much unsent output the client is not keeping up: the stream ends, and the client reconnects and reloads. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** A comment line this often keeps proxies (nginx's 60 s read timeout) from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
const RETRY_MS = 3000;

const messageEvent = z.object({
  id: z.string().uuid(),
  conversationId: z.string().uuid(),
  direction: z.enum(['in', 'out']),
  status: z.string().meta({ description: 'received, queued, sent, delivered, read or failed' }),
  campaignId: z.string().nullable(),
  updatedAt: z.string(),
});
const conversationEvent = z.object({
  id: z.string().uuid(),
  status: z.string().meta({ description: 'bot, agent or closed' }),
  currentNode: z.string().nullable(),
  updatedAt: z.string(),
});

const streamDescription =
  'A `text/event-stream` that stays open. Events: `ready` once subscribed; `message` for each new message or delivery ' +
  `tick (data: ${JSON.stringify(Object.keys(messageEvent.shape))}); \`conversation\` when a conversation changes ` +
  `(data: ${JSON.stringify(Object.keys(conversationEvent.shape))}); \`resync\` when too much changed at once to list ` +
  '(reload what you show). A comment line (`: ping`) every 15 s keeps proxies from closing it.';

export function eventRoutes(deps: ApiDeps): AnyRouteSpec[] {
  const feed = new ChangeFeed(deps.orm, deps.logger);
  return [
    route({
      method: 'get',
      path: '/api/conversations/events',
      tag: 'Conversations',
      summary: 'Live changes of your conversations (Server-Sent Events)',
      description:
        'New messages (inbound and outbound), their delivery ticks and conversation changes (claimed, released, closed, the ' +
        "journey's current node) of your account, as they happen, within about a second. Open it with an `EventSource` " +
        '(the session cookie) or any SSE client (`Authorization: Bearer`). It does not replay: after a reconnection, reload ' +
        'what you show from the other endpoints. ' +
        streamDescription,
      auth: 'user',
      responses: {
        200: { description: streamDescription, contentType: 'text/event-stream', schema: z.string() },
      },
      handler(ctx, { principal }) {
        const socket = ctx.req.socket as Socket & { server?: Server };
        socket.setTimeout(0);
        socket.setNoDelay(true);
        socket.setKeepAlive(true);
        // The response is written here as it goes, not by Koa: a stream body piped by Koa reports every client
        // that goes away (the normal end of a live feed) as an error. The status is still Koa's, for the logs.
        ctx.status = 200;
        ctx.respond = false;
        const res = ctx.res;
        res.writeHead(200, {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-store',
          // Whoever ends the stream ends the connection too, so a server shutting down has nothing left to wait for.
          Connection: 'close',
          // Tells nginx (docker-compose's `web`) to pass each event on at once instead of buffering the response.
          'X-Accel-Buffering': 'no',
        });

        const send = (event: string, data: unknown) => {
          if (res.writableLength > MAX_BUFFERED_BYTES) return void res.end();
          res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
        };
        const onChanges = (batch: ChangeBatch) => {
          for (const change of batch.changes) {
            const { kind, ...data } = change;
            send(kind, data);
          }
          if (batch.truncated) send('resync', {});
        };
        const unsubscribe = feed.subscribe(principal!.tenantId, onChanges);
        let quietMs = 0;
        // The server's close() waits for open connections; a stream would hold it forever, so it ends itself then.
        const timer = setInterval(() => {
          if (socket.server && !socket.server.listening) return void res.end();
          quietMs += 1000;
          if (quietMs >= HEARTBEAT_MS) {
            quietMs = 0;
            res.write(': ping\n\n');
          }
        }, 1000);
        timer.unref();
        res.once('close', () => {
          clearInterval(timer);
          unsubscribe();
        });
        res.write(`retry: ${RETRY_MS}\n\n`);
        send('ready', {});
      },
    }),
  ];
}
