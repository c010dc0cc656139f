/** Tells the conversation list that something changed (a claim, a reply), so it refreshes now, not at the next poll. */
const EVENT = 'flowbot:conversations-changed';

export const conversationsChanged = (): void => void window.dispatchEvent(new Event(EVENT));

export function onConversationsChanged(listener: () => void): () => void {
  window.addEventListener(EVENT, listener);
  return () => window.removeEventListener(EVENT, listener);
}
