/**
 * The `fetch` for calls out (Cal.com, Retell): Node's own. Its global undici Agent keeps
 * connections alive and reuses them (keep-alive.test.ts: 30 Cal.com calls over one or two
 * sockets), closing an idle one after 4 s or when the server's Keep-Alive hint says so; every
 * request carries its own timeout (AbortSignal) in the client that sends it.
 *
 * Why not the `undici` package with a sized Agent, as before: importing it loads a second copy of
 * undici next to Node's built-in one — ~6–10 MiB more per worker process for settings the
 * defaults cover (bench/RESULTS.md, "Lean processes").
 */
export const keepAliveFetch: typeof fetch = (input, init) => fetch(input, init);
