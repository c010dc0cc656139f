/** Calls a simulator's control API (`{url}/_sim/…`) with JSON; any answer but 2xx is thrown with its body. */
export function simulatorControl(url: string, name = 'simulator') {
  return async function call<T>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await fetch(`${url}/_sim/${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${name} ${method} /_sim/${route} answered ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}
