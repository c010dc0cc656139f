import { useEffect, useRef, useState } from 'react';

/**
 * The live feed of the tenant's conversations (GET /api/conversations/events, Server-Sent Events): one
 * EventSource for the whole app, opened while some page listens. The browser reconnects by itself after a
 * dropped stream; when the server refuses it (signed out, or the API restarting) it is opened again with a
 * growing delay. Pages reload what they show when the feed (re)opens, since it does not replay what was missed,
 * and keep a slow poll as a fallback.
 */

export interface MessageChange {
  id: string;
  conversationId: string;
  direction: 'in' | 'out';
  status: string;
  campaignId: string | null;
  updatedAt: string;
}
export interface ConversationChange {
  id: string;
  status: string;
  currentNode: string | null;
  updatedAt: string;
}
export type LiveEvent =
  | { type: 'open' }
  | { type: 'message'; data: MessageChange }
  | { type: 'conversation'; data: ConversationChange }
  | { type: 'resync' };
export type LiveState = 'connecting' | 'live' | 'offline';

/** How often pages poll: slowly while the feed is live (a safety net), briskly while it is not. */
export const pollWhile = (state: LiveState, fallbackMs = 3000): number => (state === 'live' ? 30_000 : fallbackMs);

const handlers = new Set<(event: LiveEvent) => void>();
const stateListeners = new Set<(state: LiveState) => void>();
let source: EventSource | undefined;
let state: LiveState = 'offline';
let retryMs = 1000;
let retryTimer: number | undefined;
let closeTimer: number | undefined;

function setState(next: LiveState): void {
  if (next === state) return;
  state = next;
  stateListeners.forEach((l) => l(next));
}

const emit = (event: LiveEvent) => handlers.forEach((h) => h(event));

function connect(): void {
  window.clearTimeout(retryTimer);
  const es = new EventSource('/api/conversations/events');
  source = es;
  setState('connecting');
  es.addEventListener('ready', () => {
    retryMs = 1000;
    setState('live');
    emit({ type: 'open' });
  });
  es.addEventListener('message', (e) => emit({ type: 'message', data: JSON.parse((e as MessageEvent<string>).data) as MessageChange }));
  es.addEventListener('conversation', (e) => emit({ type: 'conversation', data: JSON.parse((e as MessageEvent<string>).data) as ConversationChange }));
  es.addEventListener('resync', () => emit({ type: 'resync' }));
  es.onerror = () => {
    if (source !== es) return;
    if (es.readyState !== EventSource.CLOSED) return setState('connecting');
    // Refused (not a stream: signed out, a proxy error page): the browser gives up, so we try again later.
    es.close();
    source = undefined;
    setState('offline');
    retryTimer = window.setTimeout(() => handlers.size > 0 && connect(), retryMs);
    retryMs = Math.min(retryMs * 2, 30_000);
  };
}

/** Closes the feed at once: on sign-out, so the next account never hears the previous one's tenant. */
export function disconnect(): void {
  window.clearTimeout(retryTimer);
  window.clearTimeout(closeTimer);
  source?.close();
  source = undefined;
  setState('offline');
}

function subscribe(handler: (event: LiveEvent) => void): () => void {
  handlers.add(handler);
  window.clearTimeout(closeTimer);
  if (!source) connect();
  return () => {
    handlers.delete(handler);
    // A page change unsubscribes and subscribes again at once: keep the stream for that moment.
    if (handlers.size === 0) closeTimer = window.setTimeout(() => handlers.size === 0 && disconnect(), 2000);
  };
}

/** The feed's state, for pages that show it or poll according to it. */
export function useLiveState(): LiveState {
  const [current, setCurrent] = useState(state);
  useEffect(() => {
    stateListeners.add(setCurrent);
    setCurrent(state);
    return () => void stateListeners.delete(setCurrent);
  }, []);
  return current;
}

/**
 * Calls `reload` when an event concerns what the page shows (`concerns`; every (re)opening and resync do),
 * at most once per `delayMs`, so a burst of delivery ticks costs one reload. Answers the feed's state.
 */
export function useLiveReload(reload: () => unknown, concerns: (event: LiveEvent) => boolean, delayMs = 250): LiveState {
  const latest = useRef({ reload, concerns });
  latest.current = { reload, concerns };
  useEffect(() => {
    let timer: number | undefined;
    const unsubscribe = subscribe((event) => {
      if (event.type !== 'open' && event.type !== 'resync' && !latest.current.concerns(event)) return;
      if (timer !== undefined) return;
      timer = window.setTimeout(() => {
        timer = undefined;
        void latest.current.reload();
      }, delayMs);
    });
    return () => {
      window.clearTimeout(timer);
      unsubscribe();
    };
  }, [delayMs]);
  return useLiveState();
}
